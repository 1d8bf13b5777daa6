/**
 * The session's own commands: lines that start with `/` (`/help`, `/file`, `/save`, `/show`,
 * `/network`, `/new`, `/exit`). They are pycage's, never sent to the model; an unknown one is said to
 * be unknown rather than passed on as a request.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Session } from '../agent/index.js';
import { PycageError } from '../errors.js';
import type { NetworkMode } from '../runtime/index.js';
import type { CliIo } from './io.js';
import { formatBytes, type Reporter } from './reporter.js';
import { displayName as showName } from '../runtime/index.js';
import { readUserFiles } from './user-files.js';

/** What the session's commands change for the requests that follow. */
export interface SessionState {
  /** The user's files (--file, /file), given to every later run. */
  files: Record<string, Uint8Array>;
  /** Requests typed so far, oldest first: the prompt's history. */
  requests: string[];
  /** The network of later runs (/network). */
  network: NetworkMode;
}

export interface SessionCommandContext {
  state: SessionState;
  conversation: Session;
  reporter: Reporter;
  io: CliIo;
}

const networkModes: readonly NetworkMode[] = ['public', 'none', 'open'];

const helpLines = [
  '/file PATH      give the next requests a file or a folder (copied into the working directory)',
  '/file           list the files given so far',
  '/save FILE      save the last script to FILE (an existing file is not overwritten)',
  '/show           print the last script plainly, to copy',
  '/network [MODE] show, or set for the next runs: public, none or open',
  '/new            forget the conversation; the next request starts fresh',
  '/help           this list',
  '/exit           leave (also exit, quit, Ctrl-C or Ctrl-D at the prompt)',
];

/** Runs one `/command` line; 'leave' ends the session. */
export async function runSessionCommand(line: string, context: SessionCommandContext): Promise<'continue' | 'leave'> {
  const [command = '', ...rest] = line.trim().split(/\s+/);
  const argument = line.trim().slice(command.length).trim();
  const { reporter } = context;
  try {
    switch (command.toLowerCase()) {
      case '/exit':
      case '/quit':
      case '/q':
        return 'leave';
      case '/help':
      case '/?':
        reporter.info(['Commands (never sent to the model):', ...helpLines].join('\n'));
        return 'continue';
      case '/file':
      case '/files':
        await fileCommand(argument, context);
        return 'continue';
      case '/save':
        await saveCommand(argument, context);
        return 'continue';
      case '/show':
      case '/copy':
        showCommand(context);
        return 'continue';
      case '/network':
        networkCommand(rest[0], context);
        return 'continue';
      case '/new':
      case '/reset':
        context.conversation.reset();
        reporter.info('The conversation is forgotten; the next request starts fresh. Files given stay.');
        return 'continue';
      default:
        reporter.warn(`Unknown command ${showName(command)}; /help lists them. Nothing was sent to the model.`);
        return 'continue';
    }
  } catch (error) {
    if (!PycageError.isInstance(error)) throw error;
    reporter.error(error.message, error.hint);
    return 'continue';
  }
}

async function fileCommand(argument: string, { state, reporter, io }: SessionCommandContext): Promise<void> {
  if (argument !== '') {
    const before = new Set(Object.keys(state.files));
    const read = await readUserFiles({ paths: [unquote(argument)], cwd: io.cwd, existing: state.files });
    state.files = read.files;
    for (const name of read.skipped) reporter.warn(`left out ${showName(name)} (a symbolic link or special file; links are not followed)`);
    const added = Object.keys(read.files).filter((name) => !before.has(name));
    reporter.success(`Added ${added.length === 1 ? showName(added[0] ?? '') : `${added.length} files`}; the next requests get them in their working directory.`);
  }
  const names = Object.keys(state.files).sort();
  if (names.length === 0) {
    reporter.info('No files given yet: /file PATH adds one (a file or a folder).');
    return;
  }
  reporter.info(['Files for the next requests:', ...names.map((name) => `  ${showName(name)} (${formatBytes(state.files[name]?.length ?? 0)})`)].join('\n'));
}

/** The code of the latest request that produced any. */
function lastCode(conversation: Session): string | undefined {
  for (const result of [...conversation.results].reverse()) {
    if (result.code !== undefined) return result.code;
  }
  return undefined;
}

async function saveCommand(argument: string, { conversation, reporter, io }: SessionCommandContext): Promise<void> {
  if (argument === '') {
    reporter.warn('Say where: /save FILE, e.g. /save analysis.py');
    return;
  }
  const code = lastCode(conversation);
  if (code === undefined) {
    reporter.warn('There is no script to save yet.');
    return;
  }
  const target = path.resolve(io.cwd, unquote(argument));
  try {
    // 'wx': an existing file is never overwritten, and a link in its place is not followed.
    await writeFile(target, code, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') reporter.warn(`${showName(argument)} already exists; choose another name (it was not overwritten).`);
    else if (code === 'ENOENT') reporter.warn(`${showName(argument)}: its folder does not exist.`);
    else reporter.warn(`${showName(argument)}: could not be written (${code ?? (error as Error).message}).`);
    return;
  }
  reporter.success(`Saved the last script to ${showName(path.relative(io.cwd, target) || target)}`);
}

function showCommand({ conversation, reporter, io }: SessionCommandContext): void {
  const code = lastCode(conversation);
  if (code === undefined) {
    reporter.warn('There is no script yet.');
    return;
  }
  reporter.pause();
  // Plain: no colours, no gutter, so that selecting it on the screen copies exactly the program.
  io.stderr.write(`\n${code.replace(/\s+$/, '')}\n\n`);
}

function networkCommand(mode: string | undefined, { state, reporter }: SessionCommandContext): void {
  if (mode === undefined) {
    reporter.info(`Network of the next runs: ${state.network}. /network public|none|open changes it.`);
    return;
  }
  if (!(networkModes as readonly string[]).includes(mode)) {
    reporter.warn(`/network takes public, none or open, not ${showName(mode)}.`);
    return;
  }
  state.network = mode as NetworkMode;
  if (state.network === 'open') reporter.warn('Network open: the script can reach this machine, the local network and other containers.');
  else reporter.success(`Network of the next runs: ${state.network}.`);
}

/** `/file "my data.csv"`: quotes around a path with spaces are the user's, not part of the name. */
function unquote(text: string): string {
  const match = /^(["'])(.*)\1$/.exec(text);
  return match?.[2] ?? text;
}
