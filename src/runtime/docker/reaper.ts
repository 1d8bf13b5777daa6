/**
 * Container creations covered for the moment before their lifeline exists. A started container goes
 * when pycage dies (its keeper reads EOF on the lifeline and exits, AutoRemove deletes it), but between
 * the create request and the start there is nothing to close: a pycage killed then (kill -9, the OOM
 * killer) would leave the container `Created` until the next start's sweep. `whileCreating` tells the
 * reaper (reaper-process.ts, a detached process started once per Node process and engine, fed by a
 * pipe) which names are in that state; when the pipe closes because this process is gone, the reaper
 * removes them. The pipe is written synchronously (a few bytes into a kernel buffer), before the
 * create request leaves, so no kill can fall between the two.
 *
 * Without a reaper (it could not be started), creations go on as before and a warning says once that
 * a kill during one may leave a container until the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../logger.js';
import type { DockerClient } from './docker-client.js';

/**
 * How to start the reaper: its compiled module next to this one (dist/), or, when pycage runs from its
 * TypeScript sources (tsx, vitest), the .ts through tsx, from the package root where tsx resolves.
 */
function reaperCommand(): { args: string[]; cwd: string } {
  const cwd = fileURLToPath(new URL('../../../', import.meta.url));
  if (import.meta.url.endsWith('.ts')) return { args: ['--import', 'tsx', fileURLToPath(new URL('./reaper-process.ts', import.meta.url))], cwd };
  return { args: [fileURLToPath(new URL('./reaper-process.js', import.meta.url))], cwd };
}

class Reaper {
  readonly #options: string;
  readonly #creating = new Set<string>();
  #process: ChildProcess | undefined;
  #input: Writable | undefined;
  #warned = false;

  constructor(options: unknown) {
    // Buffers (TLS material) as base64; what JSON cannot carry (functions) is dropped, the engine's
    // address and credentials are not.
    this.#options = JSON.stringify(options ?? {}, (_key, value: unknown) => {
      if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
        return { base64: Buffer.from((value as { data: number[] }).data).toString('base64') };
      }
      return value;
    });
  }

  announce(name: string, logger: Logger): void {
    this.#creating.add(name);
    this.#write(`+ ${name}\n`, logger);
  }

  settled(name: string, logger: Logger): void {
    this.#creating.delete(name);
    this.#write(`- ${name}\n`, logger);
  }

  #write(line: string, logger: Logger): void {
    const input = this.#input ?? this.#start(logger);
    input?.write(line);
  }

  /** Starts the reaper process, telling it the engine and every creation still in flight (after a restart). */
  #start(logger: Logger): Writable | undefined {
    let child: ChildProcess;
    try {
      const command = reaperCommand();
      child = spawn(process.execPath, command.args, { cwd: command.cwd, detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    } catch (error) {
      this.#warn(logger, error);
      return undefined;
    }
    const input = child.stdin!;
    const gone = (error?: unknown): void => {
      if (this.#process !== child) return;
      this.#process = undefined;
      this.#input = undefined;
      if (error !== undefined) this.#warn(logger, error);
    };
    child.on('error', gone);
    child.on('exit', () => gone());
    input.on('error', gone);
    // Neither the process nor its pipe keeps Node running: the pipe closes when this process exits.
    child.unref();
    if ('unref' in input && typeof input.unref === 'function') input.unref();
    this.#process = child;
    this.#input = input;
    input.write(`${this.#options}\n`);
    for (const name of this.#creating) input.write(`+ ${name}\n`);
    return input;
  }

  #warn(logger: Logger, error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    logger.warn(`could not start the reaper process (${error instanceof Error ? error.message : String(error)}): a container being created when this process is killed may stay until pycage next starts`);
  }
}

const reapers = new Map<string, Reaper>();

/** The reaper for this client's engine, one per engine and process. */
function reaperFor(client: DockerClient): Reaper {
  const key = `${client.endpoint}\n${JSON.stringify(client.options ?? {})}`;
  let reaper = reapers.get(key);
  if (reaper === undefined) {
    reaper = new Reaper(client.options);
    reapers.set(key, reaper);
  }
  return reaper;
}

/**
 * Runs `work`, the creation and start of the container named `name`, with the reaper told about it:
 * if this process dies before `work` settles, the reaper removes that container.
 */
export async function whileCreating<T>(client: DockerClient, name: string, logger: Logger, work: () => Promise<T>): Promise<T> {
  const reaper = reaperFor(client);
  reaper.announce(name, logger);
  try {
    return await work();
  } finally {
    reaper.settled(name, logger);
  }
}
