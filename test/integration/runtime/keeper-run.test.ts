// A warm run goes through the container's keeper instead of a `docker exec` (issue 14): the keeper
// forks a child that drops to the sandbox user. What that must keep: the child holds nothing of the
// keeper (no capabilities, groups or descriptors, seccomp on), its bytes reach the host only as its own
// output (even bytes shaped like the keeper's frames), and its output and the egress tunnel, which
// share the keeper's stdout, never mix.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnvironment, defaultPath } from '../../../src/runtime/docker/container-options.js';
import { DockerClient } from '../../../src/runtime/docker/docker-client.js';
import { SandboxError } from '../../../src/runtime/errors.js';
import { containerLabels } from '../../../src/runtime/docker/labels.js';
import { toLogger } from '../../../src/logger.js';
import { Sandbox } from '../../../src/runtime/docker/sandbox.js';
import { runtimeDefaults } from '../../../src/runtime/settings.js';
import { createScratch, testImage, type Scratch } from './helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await createScratch('keeper-run');
});

afterAll(async () => {
  await scratch.dispose();
});

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
