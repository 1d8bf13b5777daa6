// pycage killed with SIGKILL, where cleanup.test.ts does not already look: the real `pycage` command
// killed mid-run (the next `pycage run` works and nothing of the dead process is left), and a process
// killed while an install container is building an environment (nothing is left, and the half-built
// environment is not taken for a finished one: the next run builds it again and runs right).
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, cliPath, runCliProcess } from '../../helpers/cli.js';
import { volumesWithPrefix } from '../../helpers/docker.js';
import { buildWheel } from '../../helpers/wheels.js';
import { containersWith, createScratch, docker, fixtureEnv, sessionOf, startUntil, testImage, waitFor, type Scratch } from '../runtime/helpers.js';

const installFixture = fileURLToPath(new URL('./fixtures/install-and-run.ts', import.meta.url));
let scratch: Scratch;
let workDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  scratch = await createScratch('stamina-sigkill');
  workDir = await mkdtemp(path.join(tmpdir(), 'pycage-stamina-sigkill-'));
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await scratch?.dispose();
  await rm(workDir, { recursive: true, force: true });
});

function containersOfPid(pid: number): string[] {
  return containersWith(`pycage.owner-pid=${pid}`);
}

/** No container of the killed process is left: what its lifelines guarantee, so bounded against a hang only. */
function noContainersOf(pid: number): Promise<void> {
  return waitFor(() => containersOfPid(pid).length === 0, `no container of the killed process ${pid}`, { state: () => `left: ${containersOfPid(pid).join(', ')}` });
}

describe('stamina: SIGKILL', () => {
  it('pycage killed mid-run: the next pycage run works and nothing of the killed one is left', async () => {
    await writeFile(path.join(workDir, 'long.py'), 'import time\nprint("running", flush=True)\ntime.sleep(120)\n');
    await writeFile(path.join(workDir, 'hello.py'), 'print("hello again")\n');
    const env = { ...baseEnv(), XDG_CACHE_HOME: scratch.cacheDir };
    const killed = await startUntil(process.execPath, [cliPath, 'run', 'long.py', '--requirements', 'none', '--timeout', '120'], { env, cwd: workDir, children }, (output) =>
      output.includes('running\n'),
    );
    const pid = killed.child.pid!;
    expect(containersOfPid(pid).length).toBeGreaterThanOrEqual(1);
    killed.child.kill('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');

    const next = await runCliProcess(['run', 'hello.py', '--requirements', 'none'], { cwd: workDir, env: { XDG_CACHE_HOME: scratch.cacheDir } });
    expect(next.stderr).not.toContain('Unexpected error');
    expect(next.exitCode).toBe(0);
    expect(next.stdout).toBe('hello again\n');
    await noContainersOf(pid);
  });

  it('a process killed while installing leaves no container, and its half-built environment is built again', async () => {
    const wheels = path.join(workDir, 'wheels');
    const tag = randomBytes(3).toString('hex');
    const name = `pycage-stamina-${tag}`;
    const module = name.replaceAll('-', '_');
    await buildWheel(wheels, { name, version: '1.0.0', files: { [`${module}/__init__.py`]: 'VALUE = "installed"\n' } });
    await buildWheel(wheels, { name: `pycage-stamina-warm-${tag}`, version: '1.0.0', files: { [`pycage_stamina_warm_${tag}/__init__.py`]: '' } });
    const requirement = `${name}==1.0.0`;
    const script = `import ${module}\nprint(${module}.VALUE)\n`;
    const runtime = scratch.runtime({ findLinks: wheels, noIndex: true, poolSize: 1 });
    // A first environment, complete, beside the one whose install is killed.
    const warm = await runtime.runScript('print("warm")\n', { requirements: [`pycage-stamina-warm-${tag}==1.0.0`] });
    expect(warm.stdout).toBe('warm\n');

    const env = fixtureEnv(scratch, { PYCAGE_FIXTURE_WHEELS: wheels, PYCAGE_FIXTURE_REQUIREMENT: requirement, PYCAGE_FIXTURE_SCRIPT: script });
    // Spawned from the repository, where `--import tsx` resolves.
    const holder = await startUntil(process.execPath, ['--import', 'tsx', installFixture], { env, cwd: process.cwd(), children }, (output) =>
      output.includes('event install-start\n'),
    );
    const pid = holder.child.pid!;
    // Killed while the install container builds the venv (that takes seconds with pip), once it runs:
    // a running container has its lifeline (attached before the start), which is what removes it
    // when pycage dies. The removal is then the contract, bounded against a hang only.
    await waitFor(() => runningInstallContainers(pid).length > 0, `a running install container of process ${pid}`, { intervalMs: 50 });
    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    expect(holder.output()).not.toContain('event install-done');
    await noContainersOf(pid);
    // What the kill left: the warm environment, complete, and the killed one's volume without its marker.
    expect(environmentStates(scratch.volume)).toEqual(['complete', 'partial']);

    const first = await runtime.runScript(script, { requirements: [requirement] });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe('installed\n');
    expect(first.environment?.reused).toBe(false);
    const second = await runtime.runScript(script, { requirements: [requirement] });
    expect(second.stdout).toBe('installed\n');
    expect(second.environment?.reused).toBe(true);
    expect(environmentStates(scratch.volume)).toEqual(['complete', 'complete']);
    const session = `pycage.session=${sessionOf(runtime)}`;
    await runtime.close();
    expect(containersWith(session)).toEqual([]);
  });
});

/** For each environment volume of the cache (one volume per environment), whether it has its `.complete` marker, sorted. */
function environmentStates(prefix: string): string[] {
  return volumesWithPrefix(prefix)
    .map((volume) => docker('run', '--rm', '--network', 'none', '-v', `${volume}:/env:ro`, '--entrypoint', 'python3', testImage, '-c', 'import os\nprint("complete" if os.path.exists("/env/.complete") else "partial")\n'))
    .sort();
}

function runningInstallContainers(pid: number): string[] {
  return docker('ps', '-q', '--filter', 'status=running', '--filter', `label=pycage.owner-pid=${pid}`, '--filter', 'label=pycage.role=install')
    .split('\n')
    .filter((line) => line !== '');
}
