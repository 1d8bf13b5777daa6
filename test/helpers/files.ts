/**
 * Real file-system state for assertions: what a folder holds, to show that nothing in it changed.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Every entry under `root` (symlinks not followed), with a hash of each file's bytes or a link's target. */
export async function snapshotTree(root: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  const walk = async (relative: string): Promise<void> => {
    for (const name of await readdir(path.join(root, relative))) {
      const key = path.join(relative, name);
      const entryPath = path.join(root, key);
      const stats = await lstat(entryPath);
      if (stats.isSymbolicLink()) state[key] = `link -> ${await readlink(entryPath)}`;
      else if (stats.isDirectory()) {
        state[key] = `folder ${stats.mode.toString(8)}`;
        await walk(key);
      } else state[key] = `file ${stats.mode.toString(8)} ${createHash('sha256').update(await readFile(entryPath)).digest('hex')}`;
    }
  };
  await walk('');
  return state;
}
