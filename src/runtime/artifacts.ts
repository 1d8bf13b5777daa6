/**
 * Writes the files a script left in its output directory into the caller's `outputDir`, treating what
 * comes out of the sandbox as hostile: only regular files, names re-checked (no absolute paths, no `..`,
 * no backslashes), every parent directory verified to be inside `outputDir` after symlinks are
 * resolved, files opened with O_NOFOLLOW, and a cap on the total size.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { isSafeRelativePath } from './payload.js';
import type { Artifact } from './types.js';
import type { TarEntry } from './tar.js';

/** Most bytes copied back from one run's output directory. */
export const artifactLimitBytes = 64 * 1024 * 1024;
/** Most files copied back from one run's output directory. */
export const artifactLimitFiles = 1000;

export interface ArtifactFile {
  name: string;
  data: Uint8Array;
}

/** An artifact name is checked like a file name going in: relative, no `..`, no backslashes or NUL. */
export const isSafeArtifactName = isSafeRelativePath;

/** Regular files with safe names from a tar listing, within the caps; the rest is reported as skipped. */
export function selectArtifacts(
  entries: readonly TarEntry[],
  limits: { maxBytes: number; maxFiles: number } = { maxBytes: artifactLimitBytes, maxFiles: artifactLimitFiles },
): { files: ArtifactFile[]; skipped: string[] } {
  const files: ArtifactFile[] = [];
  const skipped: string[] = [];
  let total = 0;
  for (const entry of entries) {
    const name = entry.name.replace(/^\.\//, '');
    if (entry.type !== '0' || !isSafeArtifactName(name)) {
      if (entry.type !== '5') skipped.push(entry.name);
      continue;
    }
    if (files.length >= limits.maxFiles || total + entry.data.length > limits.maxBytes) {
      skipped.push(name);
      continue;
    }
    total += entry.data.length;
    files.push({ name, data: entry.data });
  }
  return { files, skipped };
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Writes the files under `outputDir` (created if needed) and returns what landed where, by name. */
export async function writeArtifacts(outputDir: string, files: readonly ArtifactFile[]): Promise<Artifact[]> {
  await mkdir(outputDir, { recursive: true });
  const root = await realpath(outputDir);
  const artifacts: Artifact[] = [];
  for (const file of files) {
    if (!isSafeArtifactName(file.name)) continue;
    const target = path.join(root, ...file.name.split('/'));
    const parent = path.dirname(target);
    await mkdir(parent, { recursive: true });
    // A symlinked directory already in outputDir must not lead the write elsewhere.
    if (!isInside(root, await realpath(parent))) continue;
    const existing = await lstat(target).catch(() => undefined);
    if (existing !== undefined && !existing.isFile()) continue;
    const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(file.data);
    } finally {
      await handle.close();
    }
    artifacts.push({ name: file.name, path: target, sizeBytes: file.data.length });
  }
  return artifacts.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
}

/**
 * The local runner's counterpart of collect.py: regular files under `directory`, symlinks skipped and
 * never followed, within the same caps.
 */
export async function readOutputDirectory(
  directory: string,
  limits: { maxBytes: number; maxFiles: number } = { maxBytes: artifactLimitBytes, maxFiles: artifactLimitFiles },
): Promise<ArtifactFile[]> {
  const files: ArtifactFile[] = [];
  let total = 0;
  const walk = async (relative: string): Promise<void> => {
    const absolute = path.join(directory, relative);
    const entries = await readdir(absolute, { withFileTypes: true }).catch(() => []);
    entries.sort((left, right) => left.name.localeCompare(right.name));
    for (const entry of entries) {
      const name = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(name);
        continue;
      }
      if (!entry.isFile() || files.length >= limits.maxFiles) continue;
      const handle = await open(path.join(directory, name), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
      if (handle === undefined) continue;
      try {
        const stats = await handle.stat();
        if (!stats.isFile() || total + stats.size > limits.maxBytes) continue;
        const data = await handle.readFile();
        total += data.length;
        files.push({ name, data });
      } finally {
        await handle.close();
      }
    }
  };
  await walk('');
  return files;
}
