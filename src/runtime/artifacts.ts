/**
 * Writes the files a script left in its output directory into the caller's `outputDir`, treating what
 * comes out of the sandbox as hostile (DESIGN.md, "Files out"): only regular files; names re-checked (no
 * absolute paths, no `..`, no backslashes, no component beginning with a dot, so `.git/config` or
 * `.bashrc` never land); only new files are created (an existing one is never overwritten, the new one
 * takes a free name such as `plot (1).png`); no symlink is ever followed on the host, neither the file
 * itself (O_EXCL | O_NOFOLLOW) nor any folder on the way (walked one component at a time with lstat);
 * and a cap on the total size. Every file not written is reported with a short reason.
 */
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { extract, type Header } from 'tar-stream';
import { UsageError } from '../errors.js';
import { isSafeRelativePath } from './payload.js';
import type { Artifact, RefusedArtifact } from './types.js';

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

/** Why a name from the sandbox may not be written on the host, or undefined when it may. */
export function artifactNameProblem(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name.includes('\0')) return 'NUL in name';
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'backslash in name';
  const parts = name.split('/');
  if (parts.includes('..')) return 'leaves the output folder';
  if (parts.some((part) => part === '' || part === '.')) return 'empty or "." path component';
  // A dot-name is how a file turns into configuration something else runs: .git/config, .bashrc, .env.
  if (parts.some((part) => part.startsWith('.'))) return 'dot-name';
  return isSafeRelativePath(name) ? undefined : 'unsafe path';
}

const defaultLimits = { maxBytes: artifactLimitBytes, maxFiles: artifactLimitFiles };

/** One entry of the collector's archive, as tar-stream read it. */
export interface ArchiveEntry {
  /** The full name: a PAX `path` record or a GNU long name when there was one. */
  name: string;
  /** `file`, `directory`, `symlink`, `link`, ...; `unknown` for a type flag tar-stream does not know. */
  type: Header['type'] | 'unknown';
  data: Buffer;
}

/**
 * Every entry of a tar archive held in memory (ustar, PAX and GNU headers: collect.py writes PAX, as
 * Python's tarfile does). Rejects on anything malformed: a bad header checksum, an unknown format, an
 * archive that ends inside an entry. It only parses; what may be written where is decided below.
 */
export async function readArchiveEntries(archive: Uint8Array): Promise<ArchiveEntry[]> {
  const reader = extract();
  // end() only queues the bytes: tar-stream parses them from the next tick on, when the loop below
  // is already listening for entries.
  reader.end(archive);
  const entries: ArchiveEntry[] = [];
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) {
      // tar-stream's types leave its chunks unknown; in Node they are Buffers.
      if (!Buffer.isBuffer(chunk)) throw new Error('tar-stream produced a chunk that is not a Buffer');
      chunks.push(chunk);
    }
    // tar-stream's header type is null for a flag it does not know, whatever its declarations say.
    const type: Header['type'] | null = entry.header.type;
    entries.push({ name: entry.header.name, type: type ?? 'unknown', data: Buffer.concat(chunks) });
  }
  return entries;
}

/** Regular files with safe names from a tar listing, within the caps; the rest is refused with a reason. */
export function selectArtifacts(
  entries: readonly ArchiveEntry[],
  limits: { maxBytes: number; maxFiles: number } = defaultLimits,
): { files: ArtifactFile[]; refused: RefusedArtifact[] } {
  const files: ArtifactFile[] = [];
  const refused: RefusedArtifact[] = [];
  let total = 0;
  for (const entry of entries) {
    // Folders come back as the files inside them; an entry for the folder itself says nothing more.
    if (entry.type === 'directory') continue;
    const name = entry.name.replace(/^\.\//, '');
    if (entry.type !== 'file') {
      refused.push({ name: entry.name, reason: entry.type === 'symlink' ? 'symlink' : 'not a regular file' });
      continue;
    }
    const problem = artifactNameProblem(name);
    if (problem !== undefined) {
      refused.push({ name: entry.name, reason: problem });
      continue;
    }
    if (files.length >= limits.maxFiles) {
      refused.push({ name, reason: 'over the file count cap' });
      continue;
    }
    if (total + entry.data.length > limits.maxBytes) {
      refused.push({ name, reason: 'over the size cap' });
      continue;
    }
    total += entry.data.length;
    files.push({ name, data: entry.data });
  }
  return { files, refused };
}

/**
 * The collector's archive, read without trusting it: the files that may be written, the entries
 * refused, and, when the archive cannot be read at all (corrupt, or forged by the script), an `error`
 * saying so, with no files, so that the run's result still carries the script's own output and status.
 */
export async function readArtifactArchive(
  archive: Uint8Array,
  limits: { maxBytes: number; maxFiles: number } = defaultLimits,
): Promise<{ files: ArtifactFile[]; refused: RefusedArtifact[]; error?: string }> {
  let entries: ArchiveEntry[];
  try {
    entries = await readArchiveEntries(archive);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { files: [], refused: [], error: `The archive of the output folder could not be read (${reason}); no files were copied.` };
  }
  return selectArtifacts(entries, limits);
}

/** Compression suffixes that belong with the extension before them: `data.tar.gz` -> `data (1).tar.gz`. */
const compressionExtensions = new Set(['.gz', '.bz2', '.xz', '.zst', '.z', '.lz', '.lzma', '.br', '.lz4']);

/** `plot.png` -> `plot (1).png`; `data.tar.gz` -> `data (2).tar.gz`; `README` -> `README (1)`. */
export function numberedName(baseName: string, number: number): string {
  let extension = path.extname(baseName);
  let stem = baseName.slice(0, baseName.length - extension.length);
  if (compressionExtensions.has(extension.toLowerCase())) {
    const inner = path.extname(stem);
    if (inner.length >= 2 && inner.length <= 5) {
      extension = inner + extension;
      stem = stem.slice(0, stem.length - inner.length);
    }
  }
  return `${stem} (${number})${extension}`;
}

/** Most free names tried for one file before it is refused. */
const maxNumberedNames = 1000;

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * The output root: created if missing, refused if it is a symlink (the caller may not know where it
 * leads, and the sandbox's files must land where the caller looked) or not a folder.
 */
async function prepareOutputRoot(outputDir: string): Promise<string> {
  const root = path.resolve(outputDir);
  let stats = await lstat(root).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new UsageError(`The output folder ${JSON.stringify(outputDir)} cannot be read: ${(error as Error).message}`, { cause: error });
  });
  if (stats === undefined) {
    await mkdir(root, { recursive: true }).catch((error: unknown) => {
      throw new UsageError(`The output folder ${JSON.stringify(outputDir)} cannot be created: ${(error as Error).message}`, { cause: error });
    });
    stats = await lstat(root);
  }
  if (stats.isSymbolicLink()) throw symlinkedRoot(outputDir);
  if (!stats.isDirectory()) throw new UsageError(`The output folder ${JSON.stringify(outputDir)} is not a folder.`);
  return root;
}

/**
 * Throws the UsageError writeArtifacts would throw for this output folder (a symlink, or not a
 * folder), without creating anything, so a caller can refuse it before the script runs.
 */
export async function checkOutputDirectory(outputDir: string): Promise<void> {
  const stats = await lstat(path.resolve(outputDir)).catch(() => undefined);
  if (stats === undefined) return;
  if (stats.isSymbolicLink()) throw symlinkedRoot(outputDir);
  if (!stats.isDirectory()) throw new UsageError(`The output folder ${JSON.stringify(outputDir)} is not a folder.`);
}

function symlinkedRoot(outputDir: string): UsageError {
  return new UsageError(
    `The output folder ${JSON.stringify(outputDir)} is a symbolic link; pycage never follows links when it writes the sandbox's files. Name the real folder instead.`,
  );
}

/**
 * The folder `parts` names under `root`, walked one component at a time: a missing folder is made
 * (without `recursive`, so mkdir never walks anything itself), a symlink or a non-folder is refused.
 * Returns the folder's path, or the reason it cannot be used.
 */
async function walkFolders(root: string, parts: readonly string[]): Promise<{ folder: string } | { reason: string }> {
  let current = root;
  for (const part of parts) {
    const next = path.join(current, part);
    let stats = await lstat(next).catch(() => undefined);
    if (stats === undefined) {
      try {
        await mkdir(next, 0o755);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') return { reason: `cannot create folder (${errorCode(error) ?? 'error'})` };
      }
      stats = await lstat(next).catch(() => undefined);
      if (stats === undefined) return { reason: 'cannot create folder' };
    }
    if (stats.isSymbolicLink()) return { reason: 'symlink on the way' };
    if (!stats.isDirectory()) return { reason: 'not a folder on the way' };
    current = next;
  }
  return { folder: current };
}

const createFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes the files under `outputDir` (created if needed; refused with a UsageError if it is a symlink)
 * and returns what landed where, sorted by name, and what was refused, with a reason each. An existing
 * file is never touched: the new one takes the first free name `stem (N).ext`, reported in the
 * artifact's `requestedName`.
 */
export async function writeArtifacts(
  outputDir: string,
  files: readonly ArtifactFile[],
): Promise<{ artifacts: Artifact[]; refused: RefusedArtifact[] }> {
  const root = await prepareOutputRoot(outputDir);
  const artifacts: Artifact[] = [];
  const refused: RefusedArtifact[] = [];
  for (const file of files) {
    const problem = artifactNameProblem(file.name);
    if (problem !== undefined) {
      refused.push({ name: file.name, reason: problem });
      continue;
    }
    const parts = file.name.split('/');
    const baseName = parts.pop()!;
    const walked = await walkFolders(root, parts);
    if ('reason' in walked) {
      refused.push({ name: file.name, reason: walked.reason });
      continue;
    }
    const written = await createFresh(walked.folder, baseName, file.data);
    if ('reason' in written) {
      refused.push({ name: file.name, reason: written.reason });
      continue;
    }
    const name = [...parts, written.baseName].join('/');
    artifacts.push({
      name,
      path: path.join(walked.folder, written.baseName),
      sizeBytes: file.data.length,
      ...(name === file.name ? {} : { requestedName: file.name }),
    });
  }
  artifacts.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  return { artifacts, refused };
}

/** Creates a new file in `folder` under `baseName` or the first free numbered name, and writes `data`. */
async function createFresh(folder: string, baseName: string, data: Uint8Array): Promise<{ baseName: string } | { reason: string }> {
  for (let number = 0; number <= maxNumberedNames; number += 1) {
    const candidate = number === 0 ? baseName : numberedName(baseName, number);
    const target = path.join(folder, candidate);
    let handle: FileHandle;
    try {
      // O_EXCL also refuses an existing symlink at the target, dangling or not: it is never followed.
      handle = await open(target, createFlags, 0o644);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') continue;
      return { reason: `cannot create (${errorCode(error) ?? 'error'})` };
    }
    try {
      await handle.writeFile(data);
    } catch (error) {
      await handle.close().catch(() => undefined);
      // The file is this call's own (O_EXCL made it), so a half-written one is removed, not left behind.
      await unlink(target).catch(() => undefined);
      return { reason: `cannot write (${errorCode(error) ?? 'error'})` };
    }
    await handle.close();
    return { baseName: candidate };
  }
  return { reason: 'exists, and no free name left' };
}

/**
 * A name from the sandbox as it may be shown on a terminal: control characters and other
 * non-printables (ESC, newlines, bidirectional overrides) escaped as `\x1b`, `\n`, `\u202e`, so a file
 * name cannot move the cursor, rewrite the screen, write the clipboard or pass for another name.
 */
export function displayName(name: string): string {
  let shown = '';
  for (const character of name) {
    const code = character.codePointAt(0)!;
    if (character === '\\') shown += '\\\\';
    else if (character === '\n') shown += '\\n';
    else if (character === '\r') shown += '\\r';
    else if (character === '\t') shown += '\\t';
    else if (code < 0x20 || code === 0x7f) shown += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(character)) shown += code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
    else shown += character;
  }
  return shown;
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
