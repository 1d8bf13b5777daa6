// Attack tests for the sandbox's promise (issue 9), each what an attacker did against main at 00e6c68:
// install code that poisons other environments or locks out later installs, an install that floods its
// output or fills the disk, a URL requirement, a script that freezes pycage's own processes, syscalls
// Docker's default profile allows. Each must fail on that main and pass now.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../../src/errors.js';
import { environmentVolumeName } from '../../../src/runtime/environments/environment.js';
import { volumesWithPrefix } from '../../helpers/docker.js';
import { buildHostileSdist } from '../../helpers/sdists.js';
import { buildWheel } from '../../helpers/wheels.js';
import { hangBoundMs, withinHangBound } from '../../helpers/wait.js';
import { createScratch, docker, sessionContainers, testImage, type Scratch } from './helpers.js';

let scratch: Scratch;
let wheelhouse: string;

/** Every path, size and mode in an environment's volume, as root sees it. */
function volumeListing(volume: string): string {
  return docker('run', '--rm', '-v', `${volume}:/env:ro`, '--entrypoint', 'find', testImage, '/env', '-printf', '%p %s %m %U\n');
}

beforeAll(async () => {
  scratch = await createScratch('escapes');
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-escapes-wheels-'));
  await buildWheel(wheelhouse, { name: 'pycage-victim', version: '1.0.0', files: { 'pycage_victim/__init__.py': 'NAME = "victim"\n' } });
  await buildWheel(wheelhouse, { name: 'pycage-later', version: '1.0.0', files: { 'pycage_later/__init__.py': 'NAME = "later"\n' } });
  buildHostileSdist(wheelhouse, {
    name: 'pycage-poison',
    version: '1.0.0',
    attack: [
      'import glob, os, subprocess',
      'envs = "/opt/pycage/envs"',
      'report("environments visible", sorted(os.listdir(envs)))',
      // What the attack on 00e6c68 did: a .pth in every other environment, a fake environment under a key it computed.
      'def plant():',
      '    for site in glob.glob(envs + "/*/venv/lib/python3*/site-packages"):',
      '        if not site.startswith(os.path.dirname(sys.prefix)):',
      '            open(os.path.join(site, "evil.pth"), "w").write("import os\\n")',
      '    os.makedirs(envs + "/" + "0" * 64 + "/venv/bin")',
      'attempt("plant in other environments", plant)',
      'attempt("write the store", lambda: open("/opt/pycage/store/evil", "w").write("x"))',
      'attempt("mark the store complete", lambda: open("/opt/pycage/store/.complete", "w").write("{}"))',
      // The lock-out: the mode of the volume root, which the old owner-fixing step could not change back.
      'attempt("chmod the store", lambda: os.chmod("/opt/pycage/store", 0))',
      'attempt("chmod the environments root", lambda: os.chmod(envs, 0))',
      'attempt("write the image", lambda: open("/usr/lib/evil", "w").write("x"))',
      // Left running after the install, hoping to touch what pycage does next.
      'subprocess.Popen(["python3", "-c", "import time\\nwhile True: time.sleep(1)"], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)',
    ].join('\n'),
  });
  buildHostileSdist(wheelhouse, {
    name: 'pycage-flood',
    version: '1.0.0',
    // pip captures a build backend's output, so the flood goes straight to the install script's stderr.
    attack: [
      'target = None',
      'for pid in os.listdir("/proc"):',
      '    try:',
      '        if pid.isdigit() and b"pycage install" in open("/proc/%s/cmdline" % pid, "rb").read():',
      '            target = "/proc/%s/fd/2" % pid',
      '    except OSError:',
      '        pass',
      'sink = open(target, "w")',
      'line = "x" * (1024 * 1024) + "\\n"',
      'for _ in range(64):',
      '    sink.write(line)',
      'sink.flush()',
    ].join('\n'),
  });
  buildHostileSdist(wheelhouse, {
    name: 'pycage-filler',
    version: '1.0.0',
    attack: [
      'import glob',
      'target = glob.glob("/opt/pycage/envs/*")[0] + "/filler"',
      'with open(target, "wb") as sink:',
      '    for _ in range(512):',
      '        sink.write(b"\\0" * (1024 * 1024))',
    ].join('\n'),
  });
});

afterAll(async () => {
  await scratch?.dispose();
  if (wheelhouse !== undefined) await rm(wheelhouse, { recursive: true, force: true });
});

describe('an install', () => {
  it('writes only its own environment: build code cannot poison another one, forge one, or lock later installs out', async () => {
    // Source distributions allowed: their build code is what the attack runs.
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true, allowSdist: true });
    const victimScript = 'import sys, pycage_victim\nprint(pycage_victim.NAME)\nprint(sorted(m for m in sys.modules if "evil" in m))\n';
    const victim = await runtime.runScript(victimScript, { requirements: ['pycage-victim==1.0.0'] });
    expect(victim.stdout).toBe('victim\n[]\n');
    const victimVolume = environmentVolumeName(scratch.volume, victim.environment!.key);
    const before = volumeListing(victimVolume);

    const hostile = await runtime.runScript('import json, os, pycage_poison\nprint(json.dumps(pycage_poison.REPORT, sort_keys=True))\nprint(json.dumps(sorted(os.listdir("/opt/pycage/envs"))))\nprint([line.split()[3].split(",")[0] for line in open("/proc/mounts") if line.split()[1].startswith("/opt/pycage/envs/")])\n', {
      requirements: ['pycage-poison==1.0.0'],
    });
    expect(hostile.stderr).toBe('');
    const [reportLine, visibleLine, mountLine] = hostile.stdout.trim().split('\n');
    const report = JSON.parse(reportLine!) as Record<string, unknown>;
    const key = hostile.environment!.key;
    // At install time only its own environment exists for it, and every write outside it fails.
    expect(report['environments visible']).toEqual([key]);
    for (const attack of ['plant in other environments', 'write the store', 'mark the store complete', 'chmod the store', 'chmod the environments root', 'write the image']) {
      expect(report[attack], attack).not.toBe('ok');
    }
    // A run mounts only the environment it uses, read-only.
    expect(JSON.parse(visibleLine!)).toEqual([key]);
    expect(mountLine).toBe("['ro']");

    // The victim is untouched, byte for byte, and runs as before.
    expect(volumeListing(victimVolume)).toBe(before);
    expect(volumeListing(victimVolume)).not.toContain('evil');
    const again = await runtime.runScript(victimScript, { requirements: ['pycage-victim==1.0.0'] });
    expect(again.stdout).toBe('victim\n[]\n');
    // No environment was forged, and an install after the hostile one works.
    const later = await runtime.runScript('import pycage_later\nprint(pycage_later.NAME)\n', { requirements: ['pycage-later==1.0.0'] });
    expect(later.stdout).toBe('later\n');
    expect(later.environment!.reused).toBe(false);
    expect(volumesWithPrefix(scratch.volume).sort()).toEqual(
      [victim.environment!.key, key, later.environment!.key].map((each) => environmentVolumeName(scratch.volume, each)).sort(),
    );
  });

  it('that floods its output is stopped at the cap, with the start and the end of what it said', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true, allowSdist: true });
    const result = await runtime.runScript('print("never runs")\n', { requirements: ['pycage-flood==1.0.0'] });
    expect(result.error?.name).toBe('InstallError');
    expect(result.stderr).toContain('printed more than 16 MiB and was stopped');
    expect(result.stderr).toContain('bytes of output left out');
    expect(result.stderr.length).toBeLessThan(1024 * 1024);
    expect(volumesWithPrefix(scratch.volume)).not.toContain(environmentVolumeName(scratch.volume, result.environment!.key));
  });

  it('cannot grow an environment past its size limit', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true, allowSdist: true, environmentLimitBytes: 96 * 1024 * 1024 });
    const result = await runtime.runScript('print("never runs")\n', { requirements: ['pycage-filler==1.0.0'] });
    expect(result.error?.name).toBe('InstallError');
    expect(result.stderr).toContain('No space left on device');
    expect(result.stderr).toContain('size limit of 96 MiB');
    expect(volumesWithPrefix(scratch.volume)).not.toContain(environmentVolumeName(scratch.volume, result.environment!.key));
  });

  it('takes wheels only unless source distributions are allowed: no build code runs by default', async () => {
    const runtime = scratch.runtime({ findLinks: wheelhouse, noIndex: true });
    const result = await runtime.runScript('print("never runs")\n', { requirements: ['pycage-poison==1.0.0'] });
    expect(result.error?.name).toBe('InstallError');
    expect(result.stderr).toContain('--only-binary :all:');
  });

  it('of a URL or path requirement is refused before anything runs, even with no network', async () => {
    const runtime = scratch.runtime({ network: 'none' });
    for (const requirement of ['x @ http://127.0.0.1:9/x-1.0.tar.gz', 'x @ file:///etc/passwd', './local-dir', 'git+https://127.0.0.1:9/x.git']) {
      const refused = await runtime.runScript('print(1)\n', { requirements: [requirement] }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, requirement).toBeInstanceOf(PolicyError);
      expect((refused as PolicyError).exitCode).toBe(5);
      expect((refused as PolicyError).message).toMatch(/--allow-url-requirements/);
    }
  });
});

describe('a run', () => {
  it('ends when its script exits, whatever the script left behind to freeze pycage', async () => {
    // The run's timeout is the hang bound: the run must end because the script did, not because time ran out.
    const runtime = scratch.runtime({ timeoutMs: hangBoundMs });
    const output = await mkdtemp(path.join(tmpdir(), 'pycage-escapes-out-'));
    try {
      // The child waits for its parent to exit, then stops every process it can, over and over: on
      // 00e6c68 that stopped the collector (same uid), and the run never ended.
      const script = [
        'import os, signal, time',
        'open("output/kept.txt", "w").write("kept")',
        'parent = os.getpid()',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    while os.getppid() == parent:',
        '        time.sleep(0.01)',
        '    while True:',
        '        try:',
        '            os.kill(-1, signal.SIGSTOP)',
        '        except OSError:',
        '            pass',
        'print("parent done")',
      ].join('\n');
      const result = await withinHangBound(runtime.runScript(script, { outputDir: output }), 'a run whose child freezes everything after it exits');
      expect(result.stdout).toBe('parent done\n');
      expect(result.exitCode).toBe(0);
      expect(result.timedOut).toBe(false);
      expect(result.artifacts.map((artifact) => artifact.name)).toEqual(['kept.txt']);
    } finally {
      await rm(output, { recursive: true, force: true });
    }
  });

  it('that freezes everything it can from the start still ends at its timeout, keeping what it wrote, and leaves nothing', async () => {
    const runtime = scratch.runtime({ timeoutMs: 3000 });
    const output = await mkdtemp(path.join(tmpdir(), 'pycage-escapes-out-'));
    try {
      const script = [
        'import os, signal',
        'open("output/partial.txt", "w").write("so far")',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    while True:',
        '        try:',
        '            os.kill(-1, signal.SIGSTOP)',
        '        except OSError:',
        '            pass',
        'signal.pause()',
      ].join('\n');
      const result = await withinHangBound(runtime.runScript(script, { outputDir: output }), 'a frozen run with a 3 s timeout');
      expect(result.timedOut).toBe(true);
      expect(result.exitCode).toBe(124);
      expect(result.artifacts.map((artifact) => artifact.name)).toEqual(['partial.txt']);

      // An abort works the same way, in a run whose every process is stopped.
      const controller = new AbortController();
      const running = runtime.runScript(script.replace('signal.pause()', 'print("frozen", flush=True)\nsignal.pause()'), {
        timeoutMs: 600_000,
        abortSignal: controller.signal,
        onStdout: () => controller.abort(),
      });
      await expect(withinHangBound(running, 'an aborted run whose every process is stopped')).rejects.toMatchObject({ name: 'AbortedError' });
      await runtime.close();
      expect(sessionContainers(runtime)).toEqual([]);
    } finally {
      await rm(output, { recursive: true, force: true });
    }
  });

  it('cannot use io_uring, ptrace or process_vm_readv, and has no capabilities', async () => {
    const runtime = scratch.runtime({ network: 'none' });
    const script = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'numbers = {"x86_64": {"io_uring_setup": 425, "ptrace": 101, "process_vm_readv": 310, "userfaultfd": 323}, "aarch64": {"io_uring_setup": 425, "ptrace": 117, "process_vm_readv": 270, "userfaultfd": 282}}[os.uname().machine]',
      'for name, number in sorted(numbers.items()):',
      '    result = libc.syscall(number, 0, 0, 0, 0, 0)',
      '    print(name, result, os.strerror(ctypes.get_errno()))',
      'status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)',
      'print("caps", status["CapEff"], status["CapPrm"], status["CapAmb"])',
    ].join('\n');
    const result = await runtime.runScript(script);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      [
        'io_uring_setup -1 Operation not permitted',
        'process_vm_readv -1 Operation not permitted',
        'ptrace -1 Operation not permitted',
        'userfaultfd -1 Operation not permitted',
        'caps 0000000000000000 0000000000000000 0000000000000000',
        '',
      ].join('\n'),
    );
  });

  it('cannot signal or trace the keeper, which runs as another user', async () => {
    const runtime = scratch.runtime({ network: 'none' });
    const script = [
      'import os, signal',
      'keepers = [pid for pid in os.listdir("/proc") if pid.isdigit() and b"pycage keeper" in open("/proc/%s/cmdline" % pid, "rb").read()]',
      'print("found", len(keepers) > 0)',
      'for pid in keepers:',
      '    for sig in (signal.SIGSTOP, signal.SIGKILL):',
      '        try:',
      '            os.kill(int(pid), sig)',
      '            print("signalled")',
      '        except PermissionError:',
      '            print("refused")',
    ].join('\n');
    const result = await runtime.runScript(script);
    expect(result.stdout.startsWith('found True\n')).toBe(true);
    expect(result.stdout).not.toContain('signalled');
    expect(result.stdout).toContain('refused');
    // And the sandbox still works afterwards.
    expect((await runtime.runScript('print("alive")\n')).stdout).toBe('alive\n');
  });
});

describe('gVisor', () => {
  const runsc = spawnSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8' }).stdout.includes('runsc');
  it.skipIf(!runsc)('keeps the seccomp additions and the uid split under runsc too', async () => {
    const runtime = scratch.runtime({ network: 'none', gvisor: true });
    const result = await runtime.runScript(
      'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.syscall(425, 0, 0), os.strerror(ctypes.get_errno()))\nprint(os.getuid())\n',
    );
    expect(result.stdout).toBe('-1 Operation not permitted\n10001\n');
  });
});
