/**
 * Runs the built `pycage` executable (dist/cli/main.js) as a user would, with a clean environment:
 * nothing from the developer's shell (API keys above all) leaks into a test unless the test passes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultTestImage } from '../integration/global-setup.js';
import { withinHangBound } from './wait.js';

export const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  input?: string | Buffer;
  cwd?: string;
  /**
   * Past this the process is taken for hung: it is killed and the call rejects naming the command (a
   * hang is a failure, not a stuck suite). Not a speed target. @default hangBoundMs
   */
  hangBoundMs?: number;
  /** Called once the process has started, e.g. to send it a signal later. */
  onSpawn?: (child: ChildProcess) => void;
}

/** The environment every CLI test starts from: enough to find node and docker, and the test image. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    PYCAGE_IMAGE: process.env.PYCAGE_TEST_IMAGE ?? defaultTestImage,
  };
  if (process.env.DOCKER_HOST !== undefined) env.DOCKER_HOST = process.env.DOCKER_HOST;
  if (process.env.XDG_CACHE_HOME !== undefined) env.XDG_CACHE_HOME = process.env.XDG_CACHE_HOME;
  return env;
}

/**
 * Runs `pycage ARGS` to its end. Every call is bounded by the hang bound, so a test of a guarantee
 * that the command ends (at --timeout, on SIGINT) fails with the command's name if it does not.
 */
export function runCliProcess(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...baseEnv(), ...options.env },
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const finished = new Promise<CliRun>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
  child.stdin.end(options.input ?? '');
  options.onSpawn?.(child);
  return withinHangBound(finished, `pycage ${args.join(' ')}`, {
    ...(options.hangBoundMs === undefined ? {} : { boundMs: options.hangBoundMs }),
    onHang: () => child.kill('SIGKILL'),
  });
}
