/**
 * `npm run bench -- daemon-restart`: the Docker daemon restarted under an open runtime.
 *
 * A run is in flight when dockerd is stopped (SIGTERM, as a service manager would); it must end with a
 * clear PycageError (not hang, not a raw socket error). A run started while the daemon is down must
 * fail the same way, quickly. Once dockerd is back, the next runs on the same runtime must work, and
 * close() must leave none of its containers.
 *
 * Needs root and a dockerd running as a plain background process (as on pycage's CI machines and this
 * one): it is stopped by pid and started again with `nohup dockerd >/var/log/dockerd.log 2>&1 &`, and
 * the daemon is always left running. Restarting the daemon kills every container on it, so this refuses
 * to run when `docker ps` shows any container that is not this process's own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PycageError, type RunResult } from '../src/index.js';
import { createContext, expectOutput, hello, helloOutput } from './lib/context.js';
import { sessionOf } from '../test/integration/runtime/helpers.js';
import { benchImage, missingImageMessage, pause, sessionContainers } from './lib/docker.js';
import { describeMachine, formatMachine } from './lib/machine.js';
import { formatMs } from './lib/stats.js';

const socketPath = '/var/run/docker.sock';
const logFile = '/var/log/dockerd.log';

function dockerdPid(): number | undefined {
  const result = spawnSync('pidof', ['dockerd'], { encoding: 'utf8' });
  const pids = result.stdout.trim().split(/\s+/).filter((pid) => pid !== '');
  return pids.length === 1 ? Number(pids[0]) : undefined;
}

function dockerAnswers(): boolean {
  return spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' }).status === 0;
}

/** Containers on the daemon that are not this runtime's. */
function foreignContainers(session: string): string[] {
  const result = spawnSync('docker', ['ps', '--format', '{{.ID}} {{.Names}} {{.Label "pycage.session"}}'], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !line.endsWith(` ${session}`));
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await pause(100);
  }
  return performance.now() - started;
}

async function startDaemon(): Promise<number> {
  const log = openSync(logFile, 'a');
  const child = spawn('nohup', ['dockerd'], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  return waitFor(dockerAnswers, 60_000, '`docker info` to answer after starting dockerd');
}

type Settled = { kind: 'result'; result: RunResult; ms: number } | { kind: 'error'; error: unknown; ms: number } | { kind: 'hang'; ms: number };

/** How a run ended, measured from `since`; a run not over after `limitMs` counts as a hang. */
async function settle(run: Promise<RunResult>, since: number, limitMs: number): Promise<Settled> {
  const hang = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), limitMs).unref());
  const outcome = await Promise.race([
    run.then(
      (result) => ({ kind: 'result' as const, result }),
      (error: unknown) => ({ kind: 'error' as const, error }),
    ),
    hang,
  ]);
  const ms = performance.now() - since;
  return outcome === 'hang' ? { kind: 'hang', ms } : { ...outcome, ms };
}

function describeSettled(settled: Settled): string {
  if (settled.kind === 'hang') return `still running after ${formatMs(settled.ms)}: HANG`;
  if (settled.kind === 'result') {
    const { exitCode, oomKilled, stdout, stderr } = settled.result;
    return `returned a result after ${formatMs(settled.ms)}: exit ${exitCode}${oomKilled ? ' (oomKilled)' : ''}, stdout ${JSON.stringify(stdout.slice(0, 80))}, stderr ${JSON.stringify(stderr.slice(-200))}`;
  }
  const error = settled.error as Error & { exitCode?: number };
  const kind = PycageError.isInstance(error) ? `PycageError (${error.name}, exit code ${error.exitCode})` : `NOT a PycageError (${error?.name ?? typeof error})`;
  return `threw after ${formatMs(settled.ms)}: ${kind}: ${error?.message}`;
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('daemon-restart needs root (it stops and starts dockerd).');
    return 2;
  }
  const pid = dockerdPid();
  if (pid === undefined || !dockerAnswers()) {
    console.error('daemon-restart needs exactly one running dockerd, started as a plain process (pidof dockerd).');
    return 2;
  }
  const missing = await missingImageMessage(benchImage);
  if (missing !== undefined) {
    console.error(`bench: ${missing}`);
    return 3;
  }
  console.log(formatMachine(describeMachine(benchImage)));
  console.log('');

  const context = await createContext({ rounds: undefined, verbose: false, trace: false });
  const lines: string[] = [];
  let ok = true;
  try {
    const runtime = context.runtime({ poolSize: 2 });
    await runtime.start();
    expectOutput(await runtime.runScript(hello), helloOutput);
    const session = sessionOf(runtime);

    const others = foreignContainers(session);
    if (others.length > 0) {
      console.error(`refusing to restart the daemon: other containers are running on it:\n  ${others.join('\n  ')}`);
      return 3;
    }

    // 1. A run in flight when the daemon goes away.
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => (running = resolve));
    const inFlight = runtime.runScript('import time\nprint("running", flush=True)\ntime.sleep(60)\nprint("not reached")\n', {
      timeoutMs: 120_000,
      onStdout: (text) => {
        if (text.includes('running')) running();
      },
    });
    inFlight.catch(() => undefined);
    await isRunning;
    if (foreignContainers(session).length > 0) {
      console.error('refusing to restart the daemon: someone started a container meanwhile.');
      return 3;
    }
    const stoppedAt = performance.now();
    process.kill(pid, 'SIGTERM');
    lines.push(`dockerd (pid ${pid}) sent SIGTERM while a script was running (${new Date().toISOString()})`);
    const inFlightOutcome = await settle(inFlight, stoppedAt, 60_000);
    lines.push(`  run in flight: ${describeSettled(inFlightOutcome)}`);
    ok &&= inFlightOutcome.kind === 'error' && PycageError.isInstance(inFlightOutcome.error);

    const downMs = await waitFor(() => dockerdPid() === undefined && !existsSync(socketPath), 60_000, 'dockerd to exit and its socket to go');
    lines.push(`  dockerd gone and socket removed ${formatMs(downMs)} after the run ended`);

    // 2. A run started while the daemon is down.
    const downStarted = performance.now();
    const whileDown = await settle(runtime.runScript(hello), downStarted, 30_000);
    lines.push(`  run started while the daemon is down: ${describeSettled(whileDown)}`);
    ok &&= whileDown.kind === 'error' && PycageError.isInstance(whileDown.error);

    // 3. The daemon comes back; the same runtime runs again.
    const upMs = await startDaemon();
    lines.push(`dockerd started again (nohup dockerd >${logFile}); \`docker info\` answered after ${formatMs(upMs)}`);
    // Back to back first (the pool holds only dead containers: the run starts its own), then after a
    // pause that lets the pool refill.
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      if (attempt >= 3) await pause(1500);
      const started = performance.now();
      const next = await settle(runtime.runScript(hello), started, 60_000);
      lines.push(`  run ${attempt} after the restart${attempt >= 3 ? ' (after a 1.5 s pause)' : ''}: ${describeSettled(next)}`);
      ok &&= next.kind === 'result' && next.result.exitCode === 0 && next.result.stdout === helloOutput;
    }
    await runtime.close();
    const left = (await sessionContainers(runtime)).length;
    lines.push(`  after close(): ${left} container(s) of this runtime left`);
    ok &&= left === 0;
  } finally {
    if (!dockerAnswers()) {
      lines.push('dockerd was not running at the end: starting it again');
      await startDaemon().catch((error: unknown) => lines.push(`  could not start dockerd: ${String(error)}`));
    }
    // context.dispose() closes the runtime too (close() is idempotent), whatever the path out of the try.
    await context.dispose();
    console.log(lines.join('\n'));
  }
  console.log(`\nverdict: ${ok ? 'as required (clear PycageError, no hang, next run works, nothing left)' : 'NOT as required (see above)'}`);
  return ok ? 0 : 1;
}

process.exitCode = await main();
