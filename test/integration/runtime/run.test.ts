// Running scripts in the real sandbox: results, live output, files in and out, and what a script can
// see of its container (it must see nothing of the host and have no way to gain privileges).
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../../src/runtime/index.js';
import { createScratch, sessionContainers, waitForSessionContainers, type Scratch } from './helpers.js';

let scratch: Scratch;
let runtime: Runtime;
let outputRoot: string;

beforeAll(async () => {
  scratch = await createScratch('run');
  outputRoot = await mkdtemp(path.join(tmpdir(), 'pycage-runtime-output-'));
  runtime = scratch.runtime({ poolSize: 1, memoryBytes: 256 * 1024 * 1024, pidsLimit: 128 });
  await runtime.start();
});

afterAll(async () => {
  await scratch?.dispose();
  await rm(outputRoot, { recursive: true, force: true });
});

const inspector = `
import json, os
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
def writable(path):
    try:
        with open(path, "w"):
            pass
        return True
    except OSError:
        return False
def read(path):
    try:
        return open(path).read().strip()
    except OSError:
        return None
mounts = {line.split()[1]: line.split()[3] for line in open("/proc/mounts")}
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(),
    "capEff": status["CapEff"].strip(), "capPrm": status["CapPrm"].strip(), "capBnd": status["CapBnd"].strip(),
    "noNewPrivs": status.get("NoNewPrivs", "").strip(),
    "rootWritable": writable("/pycage-root-test"), "etcWritable": writable("/etc/pycage-test"),
    "workWritable": writable("/work/pycage-test"), "tmpWritable": writable("/tmp/pycage-test"),
    "envsWritable": writable("/opt/pycage/envs/pycage-test"),
    "dockerSocket": any(os.path.exists(p) for p in ("/var/run/docker.sock", "/run/docker.sock")),
    "interfaces": sorted(os.listdir("/sys/class/net")),
    "env": dict(os.environ),
    "cwd": os.getcwd(),
    "memoryLimit": read("/sys/fs/cgroup/memory/memory.limit_in_bytes") or read("/sys/fs/cgroup/memory.max"),
    "swapLimit": read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
    "pidsMax": read("/sys/fs/cgroup/pids/pids.max") or read("/sys/fs/cgroup/pids.max"),
    "workMount": mounts.get("/work"), "tmpMount": mounts.get("/tmp"), "envsMount": mounts.get("/opt/pycage/envs"),
}))
`;

describe('runScript', () => {
  it('runs hello world', async () => {
    const result = await runtime.runScript('print("hello world")\n');
    expect(result).toEqual({
      exitCode: 0,
      stdout: 'hello world\n',
      stderr: '',
      timedOut: false,
      oomKilled: false,
      outputTruncated: false,
      durationMs: expect.any(Number),
      requirements: [],
      artifacts: [],
      refusedArtifacts: [],
      network: { mode: 'public', blocked: [] },
    });
  });

  it('returns a script that raises as a result with the parsed error', async () => {
    const result = await runtime.runScript('def divide(a, b):\n    return a / b\n\nprint("before")\ndivide(1, 0)\n');
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('before\n');
    expect(result.error?.name).toBe('ZeroDivisionError');
    expect(result.error?.message).toBe('division by zero');
    expect(result.error?.traceback).toMatch(/^Traceback \(most recent call last\):\n {2}File "\/work\/script\.py", line 5, in <module>/);
    expect(result.error?.traceback).toContain('line 2, in divide');
    // The bootstrap's own frame is not in the traceback: it reads as if Python ran script.py.
    expect(result.stderr).not.toContain('<string>');
  });

  it('reports a syntax error the way Python does', async () => {
    const result = await runtime.runScript('print("unclosed"\n');
    expect(result.exitCode).toBe(1);
    expect(result.error?.name).toBe('SyntaxError');
    expect(result.stderr.startsWith('  File "/work/script.py", line 1')).toBe(true);
  });

  it('passes args, stdin, files and env, and keeps a script exit status', async () => {
    const result = await runtime.runScript(
      'import os, sys\nfrom helper import shout\nprint(sys.argv)\nprint(shout(sys.stdin.read()))\nprint(open("data/in.txt").read(), os.environ["GREETING"])\nsys.exit(3)\n',
      {
        args: ['--flag', 'two words', 'ünï'],
        stdin: 'from stdin',
        files: { 'helper.py': 'def shout(text):\n    return text.upper()\n', 'data/in.txt': new TextEncoder().encode('binary ok') },
        env: { GREETING: 'hi there' },
      },
    );
    expect(result.exitCode).toBe(3);
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe("['script.py', '--flag', 'two words', 'ünï']\nFROM STDIN\nbinary ok hi there\n");
  });

  it('streams output live and keeps multi-byte characters split across chunks whole', async () => {
    // Live, shown by the order of events rather than by a clock: after its first chunk the script
    // waits for a server on this machine's loopback (named in allowHosts, reached through the egress
    // proxy), which answers only once the test has received that chunk. Output held back until the
    // end would leave the script waiting until its timeout, and the result below would say so.
    let firstChunkSeen!: () => void;
    const seen = new Promise<void>((resolve) => (firstChunkSeen = resolve));
    const server = createServer((_request, response) => void seen.then(() => response.end('go\n')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    const chunks: string[] = [];
    const errors: string[] = [];
    try {
      const result = await runtime.runScript(
        [
          'import sys, urllib.request',
          'sys.stdout.buffer.write("first é".encode()[:-1]); sys.stdout.flush()',
          `urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=600).read()`,
          'sys.stdout.buffer.write("é".encode()[1:] + "\\n€ second\\n".encode()); sys.stdout.flush()',
          'print("third", file=sys.stderr)',
          '',
        ].join('\n'),
        {
          allowHosts: [`127.0.0.1:${port}`],
          onStdout: (text) => {
            chunks.push(text);
            if (chunks.join('').startsWith('first')) firstChunkSeen();
          },
          onStderr: (text) => errors.push(text),
        },
      );
      expect(result.timedOut, 'the script waited until its timeout for its first chunk to reach the test').toBe(false);
      expect(result.stdout).toBe('first é\n€ second\n');
      expect(chunks.join('')).toBe('first é\n€ second\n');
      expect(chunks.some((chunk) => chunk.includes('\uFFFD'))).toBe(false);
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      expect(errors.join('')).toBe('third\n');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('copies the files a script writes under ./output into outputDir, and nothing unsafe', async () => {
    const outputDir = path.join(outputRoot, 'plots');
    const result = await runtime.runScript(
      [
        'import os',
        'os.makedirs("output/nested", exist_ok=True)',
        'open("output/report.txt", "w").write("done")',
        'open(os.path.join(os.environ["PYCAGE_OUTPUT_DIR"], "nested", "data.bin"), "wb").write(bytes(range(256)) * 4)',
        'os.symlink("/etc/passwd", "output/passwd-link")',
        'os.mkfifo("output/fifo")',
        'open("not-output.txt", "w").write("stays in the sandbox")',
      ].join('\n'),
      { outputDir },
    );
    expect(result.exitCode).toBe(0);
    expect(result.artifacts).toEqual([
      { name: 'nested/data.bin', path: path.join(outputDir, 'nested', 'data.bin'), sizeBytes: 1024 },
      { name: 'report.txt', path: path.join(outputDir, 'report.txt'), sizeBytes: 4 },
    ]);
    expect(await readFile(path.join(outputDir, 'report.txt'), 'utf8')).toBe('done');
    expect((await readFile(path.join(outputDir, 'nested', 'data.bin'))).equals(Buffer.from(Array.from({ length: 1024 }, (_, index) => index % 256)))).toBe(true);
    expect((await readdir(outputDir)).sort()).toEqual(['nested', 'report.txt']);
    expect((await lstat(path.join(outputDir, 'report.txt'))).isFile()).toBe(true);
  });

  it('runs as a non-root user with no capabilities, a read-only root and only the env it was given', async () => {
    process.env.PYCAGE_TEST_FAKE_API_KEY = 'sk-test-must-not-leak';
    try {
      const result = await runtime.runScript(inspector, { env: { MY_SETTING: 'visible' } });
      expect(result.stderr).toBe('');
      const inside = JSON.parse(result.stdout) as Record<string, unknown> & { env: Record<string, string> };
      expect(inside.uid).toBe(10001);
      expect(inside.gid).toBe(10001);
      expect(inside.euid).not.toBe(0);
      expect(inside.capEff).toBe('0000000000000000');
      expect(inside.capPrm).toBe('0000000000000000');
      // The bounding set keeps CAP_KILL, CAP_SETGID and CAP_SETUID, for the keeper (root) alone: it
      // reaps, and starts the script as the sandbox user. With no_new_privs and no effective,
      // permitted, inheritable or ambient capability, the script can never gain them.
      expect(inside.capBnd).toBe('00000000000000e0');
      expect(inside.noNewPrivs).toBe('1');
      expect(inside.rootWritable).toBe(false);
      expect(inside.etcWritable).toBe(false);
      expect(inside.envsWritable).toBe(false);
      expect(inside.workWritable).toBe(true);
      expect(inside.tmpWritable).toBe(true);
      expect(inside.dockerSocket).toBe(false);
      expect(inside.cwd).toBe('/work');
      expect(inside.memoryLimit).toBe(String(256 * 1024 * 1024));
      expect(inside.swapLimit).toBe(String(256 * 1024 * 1024));
      expect(inside.pidsMax).toBe('128');
      expect(inside.workMount).toMatch(/nosuid.*nodev|nodev.*nosuid/);
      expect(inside.workMount).toContain(`size=${256 * 1024}k`);
      // A run with no requirements mounts no environment at all (each environment is its own volume,
      // mounted read-only only into the runs that use it: see escapes.test.ts).
      expect(inside.envsMount ?? null).toBeNull();
      expect(Object.keys(inside.env).sort()).toEqual(
        [
          'HOME', 'HOSTNAME', 'LANG', 'MPLBACKEND', 'MY_SETTING', 'PATH', 'PYCAGE_OUTPUT_DIR', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED',
          // network `public`: the egress proxy's variables, and the script's own loopback left direct.
          'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy',
        ].sort(),
      );
      expect(inside.env.MY_SETTING).toBe('visible');
      expect(JSON.stringify(inside.env)).not.toContain('sk-test-must-not-leak');
      expect(inside.env.HOME).toBe('/work');
    } finally {
      delete process.env.PYCAGE_TEST_FAKE_API_KEY;
    }
  });

  it('has only the loopback interface with network none and public, and a bridge with open', async () => {
    const result = await runtime.runScript('import os\nprint(sorted(os.listdir("/sys/class/net")))\n', { network: 'none' });
    expect(result.stdout).toBe("['lo']\n");
    // The default, `public`, has no interface of its own either: it reaches out only through the tunnel.
    const byDefault = await runtime.runScript('import os\nprint(sorted(os.listdir("/sys/class/net")))\n');
    expect(byDefault.stdout).toBe("['lo']\n");
    const bridged = await runtime.runScript('import os\nprint(sorted(os.listdir("/sys/class/net")))\n', { network: 'open' });
    expect(bridged.stdout).toBe("['eth0', 'lo']\n");
  });

  it('gives every run a fresh container: nothing written by one run is seen by the next', async () => {
    await runtime.runScript('open("/work/left-behind", "w").write("x")\nopen("/tmp/left-behind", "w").write("x")\n');
    const result = await runtime.runScript('import os\nprint(os.path.exists("/work/left-behind"), os.path.exists("/tmp/left-behind"))\n');
    expect(result.stdout).toBe('False False\n');
  });

  it('runs under gVisor with network none', async (context) => {
    const runtimes = execFileSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8' });
    if (!runtimes.includes('"runsc"')) {
      context.skip('the Docker engine has no runsc runtime (gVisor is not installed)');
      return;
    }
    const gvisor = scratch.runtime({ gvisor: true, network: 'none', poolSize: 0 });
    const result = await gvisor.runScript('import os\nprint(open("/proc/version").read().strip())\nprint(os.getuid(), sorted(os.listdir("/sys/class/net")))\n');
    expect(result.exitCode).toBe(0);
    const hostKernel = (await readFile('/proc/version', 'utf8')).trim();
    const [kernel, identity] = result.stdout.trim().split('\n');
    // gVisor answers with its own kernel, not the host's.
    expect(kernel).not.toBe(hostKernel);
    expect(identity).toBe("10001 ['lo']");
    expect((await gvisor.describe()).gvisor).toBe(true);
    // Under gVisor the memory limit takes the whole sandbox down; Docker's oom event still says why.
    const bomb = await gvisor.runScript('x = bytearray(400 * 1024 * 1024)\n', { memoryBytes: 96 * 1024 * 1024 });
    expect(bomb.oomKilled).toBe(true);
    expect(bomb.exitCode).toBe(137);
    await gvisor.close();
    expect(sessionContainers(gvisor)).toEqual([]);
  });

  it('removes every container of its session on close, and is safe to close twice', async () => {
    await runtime.runScript('print(1)\n');
    expect(sessionContainers(runtime).length).toBeGreaterThan(0);
    await runtime.close();
    await runtime.close();
    await waitForSessionContainers(runtime);
    await expect(runtime.runScript('print(1)\n')).rejects.toThrow(/closed/);
  });
});
