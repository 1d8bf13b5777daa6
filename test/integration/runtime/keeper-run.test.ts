// A warm run goes through the container's keeper instead of a `docker exec` (issue 14): the keeper
// forks a child that drops to the sandbox user. What that must keep: the child holds nothing of the
// keeper (no capabilities, groups or descriptors, seccomp on), its bytes reach the host only as its own
// output (even bytes shaped like the keeper's frames), and its output and the egress tunnel, which
// share the keeper's stdout, never mix. And where the keeper can, it starts the script in a fork of
// its own interpreter, without an execve: the script must not be able to tell, but by sys.flags.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnvironment, defaultPath } from '../../../src/runtime/docker/container-options.js';
import { DockerClient } from '../../../src/runtime/docker/docker-client.js';
import { SandboxError } from '../../../src/runtime/errors.js';
import { containerLabels } from '../../../src/runtime/docker/labels.js';
import { toLogger } from '../../../src/logger.js';
import { Sandbox } from '../../../src/runtime/docker/sandbox.js';
import { runtimeDefaults } from '../../../src/runtime/settings.js';
import { buildWheel } from '../../helpers/wheels.js';
import { createScratch, testImage, type Scratch } from './helpers.js';

let scratch: Scratch;
let wheelhouse: string;

beforeAll(async () => {
  scratch = await createScratch('keeper-run');
  wheelhouse = await mkdtemp(path.join(tmpdir(), 'pycage-keeper-run-wheels-'));
  await buildWheel(wheelhouse, { name: 'pycage-keeper-probe', version: '1.0.0', files: { 'pycage_keeper_probe/__init__.py': 'NAME = "probe"\n' } });
});

afterAll(async () => {
  await scratch.dispose();
  await rm(wheelhouse, { recursive: true, force: true });
});

/**
 * What a script can see of how its interpreter was started, as JSON. A PYTHON* variable the keeper
 * cannot honour in a fork (PYTHONHASHSEED=random changes nothing else) sends a run down the exec path.
 */
const startProbe = [
  'import builtins, json, os, site, sys',
  'status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)',
  'facts = {',
  '    "forked": sys.flags.isolated == 1,',
  '    "argv": sys.argv, "orig_argv": sys.orig_argv[:2], "cmdline": open("/proc/self/cmdline", "rb").read().split(b"\\0")[:2],',
  '    "executable": sys.executable, "base_executable": sys._base_executable,',
  '    "prefixes": [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix], "path": sys.path,',
  '    "user_site": site.ENABLE_USER_SITE, "site_prefixes": site.PREFIXES, "interactive_hook": hasattr(sys, "__interactivehook__"),',
  '    "builtins": [hasattr(builtins, name) for name in ("exit", "quit", "help", "copyright", "credits", "license")],',
  '    "main": [type(__builtins__).__name__, __name__, os.path.basename(__file__), sys.modules["__main__"].__dict__ is globals()],',
  '    "stdio": [(type(stream.buffer).__name__, stream.encoding, stream.errors, stream.line_buffering, stream.write_through, stream.mode) for stream in (sys.stdin, sys.stdout, sys.stderr)],',
  '    "stdio_names": [sys.stdin.buffer.raw.name, sys.stdout.buffer.name, sys.stderr.buffer.name],',
  '    "bytecode": sys.dont_write_bytecode, "exc_info": sys.exc_info()[0] is None,',
  '    "environment": sorted(name for name in os.environ if name != "PYTHONHASHSEED"), "cwd": os.getcwd(),',
  '    "own_proc": os.stat("/proc/self/status").st_uid, "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()],',
  '    "caps": [status[name] for name in ("CapInh", "CapPrm", "CapEff", "CapAmb")], "no_new_privs": status["NoNewPrivs"], "seccomp": status["Seccomp"],',
  '    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd"))[:3],',
  '}',
  'print(json.dumps(facts, default=repr))',
].join('\n');

/** The probe through the fork and through the exec path: equal but for `forked`, and proof that each path was taken. */
async function probeBothWays(runtime: ReturnType<Scratch['runtime']>, options: { requirements?: string[] } = {}): Promise<void> {
  const forked = await runtime.runScript(startProbe, options);
  const executed = await runtime.runScript(startProbe, { ...options, env: { PYTHONHASHSEED: 'random' } });
  expect(forked.stderr).toBe('');
  expect(executed.stderr).toBe('');
  const [viaFork, viaExec] = [forked, executed].map((result) => JSON.parse(result.stdout) as Record<string, unknown>);
  expect([viaFork!.forked, viaExec!.forked]).toEqual([true, false]);
  expect({ ...viaFork, forked: undefined }).toEqual({ ...viaExec, forked: undefined });
  expect(viaFork).toMatchObject({ ids: [10001, 10001, 10001, []], own_proc: 10001, caps: Array(4).fill('0000000000000000'), no_new_privs: '1', seccomp: '2', fds: [0, 1, 2] });
}

describe('a run through the keeper', () => {
  it('runs as the sandbox user with no capabilities, groups or keeper descriptors, and seccomp on', async () => {
    const runtime = scratch.runtime({ network: 'none' });
    const script = [
      'import os',
      'status = dict(line.split(":\\t") for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)',
      'print("ids", os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups())',
      'print("caps", status["CapEff"], status["CapPrm"], status["CapAmb"], status["CapInh"])',
      'print("flags", status["NoNewPrivs"], status["Seccomp"])',
      'print("cwd", os.getcwd())',
      // The listing's own descriptor is closed again once listdir returns; 0-2 are the run's pipes.
      'print("fds", sorted(int(fd) for fd in os.listdir("/proc/self/fd"))[:3], len(os.listdir("/proc/self/fd")))',
    ].join('\n');
    const result = await runtime.runScript(script);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      ['ids 10001 10001 10001 10001 []', 'caps 0000000000000000 0000000000000000 0000000000000000 0000000000000000', 'flags 1 2', 'cwd /work', 'fds [0, 1, 2] 4', ''].join('\n'),
    );
  });

  it('starts a script in a fork of the keeper that it cannot tell from a new interpreter (but by sys.flags)', async () => {
    await probeBothWays(scratch.runtime({ network: 'none' }));
  });

  it('starts a script of an environment in a fork too, with the venv as its interpreter would set it up', async () => {
    const runtime = scratch.runtime({ network: 'none', findLinks: wheelhouse, noIndex: true });
    await probeBothWays(runtime, { requirements: ['pycage-keeper-probe==1.0.0'] });
    const result = await runtime.runScript('import pycage_keeper_probe, sys\nprint(pycage_keeper_probe.NAME, sys.flags.isolated, sys.prefix.startswith("/opt/pycage/envs/"))\n', {
      requirements: ['pycage-keeper-probe==1.0.0'],
    });
    expect(result.stdout).toBe('probe 1 True\n');
  });

  it('leaves nothing of the keeper to a forked script: no keeper objects, globals or command line', async () => {
    const runtime = scratch.runtime({ network: 'public' });
    const script = [
      'import gc, os, sys',
      'kinds = sorted({type(thing).__name__ for thing in gc.get_objects()} & {"Connection", "Run", "BecomeScript", "EpollSelector", "socket"})',
      'keepers = [pid for pid in os.listdir("/proc") if pid.isdigit() and b"pycage keeper" in open("/proc/%s/cmdline" % pid, "rb").read()]',
      // Functions compiled from `-c` are the keeper's and the bootstrap's; these names are the keeper's.
      'functions = sorted({thing.__name__ for thing in gc.get_objects() if type(thing).__name__ == "function" and thing.__code__.co_filename == "<string>" and thing.__name__ in ("send", "start_run", "from_host", "main", "forget_descriptors", "children_ended")})',
      'print(sys.flags.isolated, kinds, functions, str(os.getpid()) in keepers, len(keepers) > 0)',
    ].join('\n');
    const result = await runtime.runScript(script);
    expect(result.stderr).toBe('');
    // The keeper (and tini, which started it) still say so; the script's own process does not.
    expect(result.stdout).toBe('1 [] [] False True\n');
  });

  it("gives back bytes shaped like the keeper's frames as output, and the script's own status", async () => {
    const runtime = scratch.runtime({ network: 'none' });
    // A RUN_EXIT frame (kind 21) for stream 1 with status 0, a REAPED (24) for stream 2, a tunnel OPEN (1).
    const frame = (kind: number, stream: number, payload: Buffer): Buffer => {
      const header = Buffer.alloc(9);
      header.writeUInt8(kind, 0);
      header.writeUInt32BE(stream, 1);
      header.writeUInt32BE(payload.length, 5);
      return Buffer.concat([header, payload]);
    };
    const forged = Buffer.concat([frame(21, 1, Buffer.alloc(4)), frame(24, 2, Buffer.alloc(4)), frame(1, 7, Buffer.alloc(0))]);
    const literal = [...forged].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
    const script = `import os, sys\nos.write(1, b"${literal}")\nos.write(2, b"${literal}")\nsys.exit(5)\n`;
    const result = await runtime.runScript(script);
    // Every byte is below 0x80, so the text is the bytes themselves.
    const expected = forged.toString('latin1');
    expect(result.exitCode).toBe(5);
    expect(result.stdout).toBe(expected);
    expect(result.stderr).toBe(expected);
  });

  it('keeps its output and the egress tunnel apart on the shared keeper stream', async () => {
    const runtime = scratch.runtime({ network: 'public' });
    // Output in big chunks while proxied connections (refused by the egress policy: a private address)
    // go through the tunnel on the same stream.
    const script = [
      'import socket, sys',
      'for index in range(40):',
      '    sys.stdout.write(("%03d" % index) * 10000 + "\\n")',
      '    sys.stdout.flush()',
      '    if index % 8 == 0:',
      '        connection = socket.create_connection(("127.0.0.1", 3128))',
      '        connection.sendall(b"CONNECT 10.0.0.%d:80 HTTP/1.1\\r\\nHost: 10.0.0.%d:80\\r\\n\\r\\n" % (index, index))',
      '        answer = connection.recv(4096).split(b"\\r\\n")[0].decode()',
      '        connection.close()',
      '        sys.stderr.write("%d %s\\n" % (index, answer.split(" ")[1]))',
    ].join('\n');
    const result = await runtime.runScript(script);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(Array.from({ length: 40 }, (_, index) => `${String(index).padStart(3, '0').repeat(10000)}\n`).join(''));
    const refused = [0, 8, 16, 24, 32];
    expect(result.stderr.split('\n').filter(Boolean).map((line) => Number(line.split(' ')[0]))).toEqual(refused);
    expect(result.stderr).not.toMatch(/ 2\d\d$/m);
    expect(result.network.blocked.map((entry) => entry.host).sort()).toEqual(refused.map((index) => `10.0.0.${index}`).sort());
  });

  it('runs one script per container: a second run in the same sandbox is refused', async () => {
    const session = randomBytes(6).toString('hex');
    const sandbox = await Sandbox.create({
      client: new DockerClient(),
      settings: {
        image: testImage,
        imagePath: defaultPath,
        network: 'none',
        memoryBytes: runtimeDefaults.memoryBytes,
        cpus: runtimeDefaults.cpus,
        pidsLimit: runtimeDefaults.pidsLimit,
        gvisor: false,
        tmpBytes: runtimeDefaults.tmpBytes,
        workBytes: runtimeDefaults.workBytes,
      },
      labels: containerLabels({ role: 'run', session }),
      name: `pycage-${session}-run-1`,
      poolKey: 'keeper-run-test',
      logger: toLogger(undefined, 'Sandbox'),
    });
    try {
      let output = '';
      const run = (code: string) =>
        sandbox.run({ cmd: ['python3', '-c', code], env: baseEnvironment(defaultPath), onOutput: (_stream, data) => (output += data.toString('utf8')) });
      expect(await run('print("first")')).toEqual({ exitCode: 0, containerExited: false });
      expect(output).toBe('first\n');
      await expect(run('print("second")')).rejects.toBeInstanceOf(SandboxError);
      expect(output).toBe('first\n');
      expect(await sandbox.reap()).toBe(true);
    } finally {
      await sandbox.destroy();
    }
  });
});
