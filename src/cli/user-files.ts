/**
 * `--file PATH` (and the session's `/file PATH`): the user's data, read from this machine into the
 * record of relative path -> bytes that a run copies into the script's working directory. A file
 * goes in under its base name, a folder under its base name with everything below it. Inside a
 * folder symbolic links are skipped, never followed (a link to ~/.ssh must not carry keys into a
 * sandbox running model-written code), and every file is opened with O_NOFOLLOW so a link swapped in
 * while reading is refused too. A cap on the total keeps a run's payload within the sandbox's work dir.
 */
import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** Most bytes of user files one run takes (the sandbox's work dir is a 256 MiB tmpfs). */
export const userFilesLimitBytes = 100 * 2 ** 20;
/** Most user files one run takes. */
export const userFilesLimitCount = 2000;

export interface UserFiles {
  /** Relative path in the working directory -> content. */
  files: Record<string, Uint8Array>;
  /** Symbolic links and other non-regular entries found in folders and left out, as `folder/name`. */
  skipped: string[];
}

export interface ReadUserFilesOptions {
  /** The paths as the user gave them. */
  paths: readonly string[];
  /** What relative paths are relative to. */
  cwd: string;
  /** Files already chosen (a session's earlier `/file`), kept and counted against the caps. @default {} */
  existing?: Readonly<Record<string, Uint8Array>>;
  /** @default userFilesLimitBytes */
  maxBytes?: number;
  /** @default userFilesLimitCount */
  maxFiles?: number;
}

export async function readUserFiles(options: ReadUserFilesOptions): Promise<UserFiles> {
  const maxBytes = options.maxBytes ?? userFilesLimitBytes;
  const maxFiles = options.maxFiles ?? userFilesLimitCount;
  const files: Record<string, Uint8Array> = { ...options.existing };
  const skipped: string[] = [];
  let totalBytes = Object.values(files).reduce((sum, content) => sum + content.length, 0);

  const add = (relative: string, content: Uint8Array, given: string): void => {
    if (Object.keys(files).length >= maxFiles && files[relative] === undefined) {
      throw new UsageError(`--file ${given}: more than ${maxFiles} files in one run; give a smaller folder.`);
    }
    totalBytes += content.length - (files[relative]?.length ?? 0);
    if (totalBytes > maxBytes) {
      throw new UsageError(`--file ${given}: the files come to more than ${Math.round(maxBytes / 2 ** 20)} MiB, the most one run takes.`);
    }
    files[relative] = content;
  };

  for (const given of options.paths) {
    const absolute = path.resolve(options.cwd, given);
    const name = path.basename(absolute);
    if (name === '' || name === '.' || name === '..' || absolute === path.parse(absolute).root) {
      throw new UsageError(`--file ${given}: give a file or a folder below this one, not the root or a parent.`);
    }
    // The path the user named is theirs to point anywhere, so a link they name is followed once;
    // what lies inside a folder is not.
    const stats = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new UsageError(`--file ${given}: no such file or folder.`);
      if (error.code === 'EACCES') throw new UsageError(`--file ${given}: permission denied.`);
      throw new UsageError(`--file ${given}: cannot be read (${error.message}).`, { cause: error });
    });
    if (stats.isFile()) {
      add(name, await readRegularFile(absolute, given, false, maxBytes), given);
    } else if (stats.isDirectory()) {
      await walkFolder(absolute, name, given, add, skipped, maxBytes);
    } else {
      throw new UsageError(`--file ${given}: not a regular file or a folder.`);
    }
  }
  return { files, skipped };
}

async function walkFolder(
  folder: string,
  relative: string,
  given: string,
  add: (relative: string, content: Uint8Array, given: string) => void,
  skipped: string[],
  maxBytes: number,
): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--file ${given}: cannot read the folder ${relative} (${error.code ?? error.message}).`, { cause: error });
  });
  entries.sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  for (const entry of entries) {
    const childRelative = `${relative}/${entry.name}`;
    const childAbsolute = path.join(folder, entry.name);
    // readdir's types come from lstat: a symbolic link is reported as one, never as what it points to.
    if (entry.isDirectory()) await walkFolder(childAbsolute, childRelative, given, add, skipped, maxBytes);
    else if (entry.isFile()) add(childRelative, await readRegularFile(childAbsolute, given, true, maxBytes), given);
    else skipped.push(childRelative);
  }
}

async function readRegularFile(file: string, given: string, noFollow: boolean, maxBytes: number): Promise<Uint8Array> {
  const flags = constants.O_RDONLY | (noFollow ? constants.O_NOFOLLOW : 0);
  const handle = await open(file, flags).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP') throw new UsageError(`--file ${given}: ${file} became a symbolic link while being read; it is not followed.`);
    throw new UsageError(`--file ${given}: cannot read ${file} (${error.code ?? error.message}).`, { cause: error });
  });
  try {
    // Checked on the open file: what was a regular file when listed must still be one.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UsageError(`--file ${given}: ${file} is not a regular file.`);
    // A file over the whole cap is refused before it is read into memory.
    if (stats.size > maxBytes) throw new UsageError(`--file ${given}: ${path.basename(file)} is larger than ${Math.round(maxBytes / 2 ** 20)} MiB, the most one run takes.`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
