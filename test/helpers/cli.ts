/**
 * Runs the built `pycage` executable (dist/cli/main.js) as a user would, with a clean environment:
 * nothing from the developer's shell (API keys above all) leaks into a test unless the test passes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { defaultTestImage } from '../integration/global-setup.js';

export const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface CliOptions {
  env?: Record<string, string>;
  input?: string | Buffer;
  cwd?: string;
  /** Kill the process if it runs longer (a hang is a failure, not a stuck suite). @default 120000 */
  timeoutMs?: number;
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

export function runCliProcess(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...baseEnv(), ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, durationMs: performance.now() - started });
    });
    child.stdin.end(options.input ?? '');
    options.onSpawn?.(child);
  });
}
