/**
 * Running a whole process for a benchmark (`pycage run`, `docker run`, `node -e 0`): spawned directly
 * (no shell in between), its output kept for a correctness check, and a failure thrown, since a figure
 * measured on a failing command would mean nothing.
 */
import { spawn } from 'node:child_process';
import { median } from './stats.js';

export interface ProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** Runs the process and throws unless it exited 0 and printed `expected` on stdout (when given). */
export async function runChecked(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; expected?: string } = {},
): Promise<void> {
  const result = await runProcess(command, args, options);
  if (result.exitCode !== 0 || (options.expected !== undefined && result.stdout !== options.expected)) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.exitCode} with stdout ${JSON.stringify(result.stdout.slice(0, 200))} and stderr ${JSON.stringify(result.stderr.slice(-500))}`,
    );
  }
}

/**
 * How long `await import(specifier)` takes in a fresh Node process (an ES module, timed from inside),
 * as the median of `samples` processes.
 */
export async function importMs(specifier: string, options: { env: NodeJS.ProcessEnv; cwd?: string; samples: number }): Promise<number> {
  const probe = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let index = 0; index < options.samples; index += 1) {
    const result = await runProcess(process.execPath, ['--input-type=module', '-e', probe], { env: options.env, cwd: options.cwd ?? process.cwd() });
    times.push(Number(result.stdout));
  }
  return median(times);
}
