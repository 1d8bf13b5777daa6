/**
 * The local runner's processes: trusted helpers (probe, install) and the script itself, each started in
 * a process group of its own (`detached: true`), so that one SIGKILL to the group ends everything it
 * started (pip under install.py; whatever the script forked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { throwIfAborted } from '../../abort.js';
import { AbortedError } from '../../errors.js';
import type { StreamName } from '../output.js';
import type { Tracked } from '../tracker.js';

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Kills a process group started with `detached: true` (the leader's pid names the group). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The shell's convention for a process killed by a signal: 128 + its number (1 when unknown). */
export function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal === null ? undefined : os.constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * Runs a trusted helper (probe, install) with the host's python, stdin bytes in, text out. An abort
 * kills its group (pip along with the install script that started it).
 */
export function runHelper(command: string, args: string[], options: { input?: Uint8Array; env: NodeJS.ProcessEnv; abortSignal?: AbortSignal | undefined }): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    // Thrown in the executor: the promise rejects with it.
    throwIfAborted(options.abortSignal);
    const child = spawn(command, args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const onAbort = (): void => killGroup(child.pid);
    options.abortSignal?.addEventListener('abort', onAbort, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => {
      options.abortSignal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('close', (exitCode, signal) => {
      options.abortSignal?.removeEventListener('abort', onAbort);
      if (options.abortSignal?.aborted) reject(new AbortedError(undefined, { cause: options.abortSignal.reason }));
      else resolve({ exitCode, signal, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

/** A script's process group: ending it, waiting or not, is one SIGKILL to the group, which takes effect at once. */
export interface ProcessGroup extends Tracked {
  kill(): void;
}

function processGroup(child: ChildProcess): ProcessGroup {
  const ended = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  const kill = (): void => killGroup(child.pid);
  return { ended, kill, destroy: async () => kill(), abandon: kill };
}

/**
 * Runs a script's interpreter with `input` on its stdin and its output handed to `onOutput` as it
 * comes, until it has exited and its output has closed. `onStart` gets its process group at once.
 */
export function runScriptProcess(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env: Record<string, string>;
    input: Uint8Array;
    onOutput: (stream: StreamName, data: Buffer) => void;
    onStart: (group: ProcessGroup) => void;
  },
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const group = processGroup(child);
    options.onStart(group);
    child.stdout.on('data', (data: Buffer) => options.onOutput('stdout', data));
    child.stderr.on('data', (data: Buffer) => options.onOutput('stderr', data));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    child.on('error', reject);
    let exited: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (exitCode, signal) => {
      exited = { exitCode, signal };
      // Whatever the script left running in its group goes with it (and releases stdout).
      group.kill();
    });
    child.on('close', (exitCode, signal) => resolve(exited ?? { exitCode, signal }));
  });
}
