/**
 * Where pycage keeps what it may throw away: pinned versions, image probes, saved projects. One rule
 * for every part, so the runtime and the requirements stage never disagree on the folder.
 */
import { homedir } from 'node:os';
import path from 'node:path';

/** `$XDG_CACHE_HOME/pycage`, else `~/.cache/pycage`. */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'pycage');
  return path.join(homedir(), '.cache', 'pycage');
}
