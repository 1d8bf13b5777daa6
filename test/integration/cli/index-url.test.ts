// A package index the user names with --index-url: one served over plain HTTP, one that wants HTTP
// Basic credentials, both on the Docker bridge's gateway address so the install container reaches
// them (whatever network the install gets there by). The credentials must reach the installer and
// nothing else: not the output, the --verbose log, the --json result, the runtime's events, the cache
// directory, an error message, nor the run container (its `docker inspect`, environment and files).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { LogEntry } from '../../../src/logger.js';
import type { RuntimeEvent } from '../../../src/runtime/index.js';
import { startChatServer } from '../../helpers/chat-server.js';
import { baseEnv, cliPath, runCliProcess } from '../../helpers/cli.js';
import { dockerBridgeGateway, pycageContainers } from '../../helpers/docker.js';
import { startIndexServer, type IndexServer } from '../../helpers/index-server.js';
import { buildWheel, wheelFileName } from '../../helpers/wheels.js';
import { createScratch, startUntil, type Scratch } from '../runtime/helpers.js';

const secret = `s3cret-${randomBytes(8).toString('hex')}`;
let directory: string;
let cacheHome: string;
let gateway: string;
let plainIndex: IndexServer;
let privateIndex: IndexServer;
let scratch: Scratch;
const children: ChildProcess[] = [];

/** A wheel served by an index: the server gets its bytes, the simple API lists it with their hash. */
async function servedWheel(name: string, version: string, value: string): Promise<{ packages: Record<string, Array<{ version: string; files: string[] }>>; files: Record<string, Buffer> }> {
  const file = await buildWheel(path.join(directory, 'built'), { name, version, files: { [`${name.replace(/-/g, '_')}/__init__.py`]: `VALUE = ${JSON.stringify(value)}\n` } });
  return { packages: { [name]: [{ version, files: [wheelFileName(name, version)] }] }, files: { [wheelFileName(name, version)]: await readFile(file) } };
}

/** PEP 723 metadata declares the requirement, so it is pinned against the index on the host. */
function scriptNeeding(distribution: string, body: string): string {
  return `# /// script\n# dependencies = ["${distribution}"]\n# ///\n${body}`;
}

// The script looks for the secret with it reversed in its own source, so finding its own file is no match.
const hunt = `
import json, os, sys, time
secret = ${JSON.stringify([...secret].reverse().join(''))}[::-1].encode()
checked = []
found = []
def check(name):
    try:
        with open(name, "rb") as handle:
            data = handle.read(16 * 1024 * 1024)
    except OSError:
        return
    checked.append(name)
    if secret in data:
        found.append(name)
for pid in os.listdir("/proc"):
    if pid.isdigit() or pid == "self":
        check(f"/proc/{pid}/environ")
        check(f"/proc/{pid}/cmdline")
for root, folders, names in os.walk("/"):
    if root == "/":
        folders[:] = [folder for folder in folders if folder not in ("proc", "sys", "dev")]
    for name in names:
        full = os.path.join(root, name)
        if not os.path.islink(full) and os.path.isfile(full):
            check(full)
print(json.dumps({"checked": len(checked), "venvChecked": any(name.startswith(sys.prefix + "/") for name in checked), "found": found, "environ": "SECRET" if secret in json.dumps(dict(os.environ)).encode() else "clean"}), flush=True)
if sys.argv[1:] == ["wait"]:
    # Held open until the test has inspected the container, bounded by --timeout.
    while not os.path.exists("/tmp/pycage-test-go"):
        time.sleep(0.1)
`;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-cli-index-'));
  cacheHome = path.join(directory, 'cache');
  gateway = dockerBridgeGateway();
  const plain = await servedWheel('pycage-plain-demo', '1.2.0', 'from the plain HTTP index');
  plainIndex = await startIndexServer({ host: gateway, packages: plain.packages, files: plain.files });
  const hidden = await servedWheel('pycage-private-demo', '3.1.0', 'from the private index');
  privateIndex = await startIndexServer({ host: gateway, packages: hidden.packages, files: hidden.files, basicAuth: { username: 'user', password: secret } });
  await writeFile(path.join(directory, 'plain.py'), scriptNeeding('pycage-plain-demo', 'import pycage_plain_demo\nprint(pycage_plain_demo.VALUE)\n'));
  await writeFile(path.join(directory, 'private.py'), scriptNeeding('pycage-private-demo', `import pycage_private_demo\nprint(pycage_private_demo.VALUE)\n${hunt}`));
  scratch = await createScratch('index-url');
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await plainIndex?.close();
  await privateIndex?.close();
  await scratch?.dispose();
  await rm(directory, { recursive: true, force: true });
});

const plainUrl = (): string => `http://${gateway}:${plainIndex.port}/simple`;
const privateUrl = (password = secret): string => `http://user:${password}@${gateway}:${privateIndex.port}/simple`;
const env = (): Record<string, string> => ({ XDG_CACHE_HOME: cacheHome });
const run = (args: string[]) => runCliProcess(args, { cwd: directory, env: env(), hangBoundMs: 300_000 });

/** Every file under `root`, read whole. */
async function filesUnder(root: string): Promise<Array<{ name: string; text: string }>> {
  const files: Array<{ name: string; text: string }> = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const name = path.join(entry.parentPath, entry.name);
    files.push({ name, text: (await readFile(name)).toString('latin1') });
  }
  return files;
}

describe('an index over plain HTTP', () => {
  it('installs through --index-url http://ADDRESS:PORT/simple, trusting that host, and says so', async () => {
    const result = await run(['run', 'plain.py', '--index-url', plainUrl(), '--network', 'open', '--verbose']);
    expect(result.stdout).toBe('from the plain HTTP index\n');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`index over plain HTTP: ${gateway}`);
    // Pinned on the host against that index, then installed from it.
    expect(result.stderr).toContain('pycage-plain-demo==1.2.0');
    expect(plainIndex.requests.some((request) => request.path === `/files/${wheelFileName('pycage-plain-demo', '1.2.0')}`)).toBe(true);
  });
});

describe('an index that wants credentials', () => {
  it('installs with http://user:secret@..., and the secret shows nowhere: output, --verbose log, cache files, the run container', async () => {
    const started = await startUntil(
      process.execPath,
      [cliPath, 'run', 'private.py', '--index-url', privateUrl(), '--network', 'open', '--verbose', '--timeout', '240', '--', 'wait'],
      { env: { ...baseEnv(), ...env() }, cwd: directory, children },
      (output) => output.includes('"checked"'),
    );
    const pid = started.child.pid!;
    // The run container (and any warm one of the pool) as Docker describes it.
    const containers = pycageContainers({ ownerPid: pid });
    expect(containers.length).toBeGreaterThan(0);
    const inspected = execFileSync('docker', ['inspect', ...containers], { encoding: 'utf8' });
    expect(JSON.parse(inspected)).toHaveLength(containers.length);
    expect(inspected).not.toContain(secret);
    for (const container of containers) {
      try {
        execFileSync('docker', ['exec', container, 'python3', '-c', 'open("/tmp/pycage-test-go", "w").close()'], { stdio: 'ignore' });
      } catch {
        // A warm container being removed, or one not running the script.
      }
    }
    const exit = await started.exited;
    const output = started.output();
    expect(output).toContain('from the private index');
    expect(exit.code).toBe(0);

    const report = JSON.parse(output.split('\n').find((line) => line.includes('"checked"')) ?? '{}') as { checked: number; venvChecked: boolean; found: string[]; environ: string };
    // The script read the image's files and the mounted environment, and found the secret in none.
    expect(report.checked).toBeGreaterThan(1000);
    expect(report.venvChecked).toBe(true);
    expect(report.found).toEqual([]);
    expect(report.environ).toBe('clean');

    // stdout and stderr with --verbose (every component's log lines), masked where they name the index.
    expect(output).toContain(`user:***@${gateway}:${privateIndex.port}`);
    expect(output).not.toContain(secret);
    // The credentials did reach the index, from the host (pinning) and from the installer.
    const authorized = privateIndex.requests.filter((request) => request.authorization === `Basic ${Buffer.from(`user:${secret}`).toString('base64')}`);
    expect(authorized.some((request) => request.path.startsWith('/files/'))).toBe(true);
    expect(authorized.some((request) => request.path === '/simple/pycage-private-demo/')).toBe(true);

    // Nothing written under the cache directory holds the secret (the version cache included).
    const cached = await filesUnder(cacheHome);
    expect(cached.some((file) => file.name.endsWith('versions.json'))).toBe(true);
    expect(cached.filter((file) => file.text.includes(secret)).map((file) => file.name)).toEqual([]);
  });

  it('keeps the secret out of the --json result', async () => {
    const result = await run(['run', 'private.py', '--index-url', privateUrl(), '--network', 'open', '--json', '--verbose']);
    expect(result.exitCode).toBe(0);
    const json = JSON.parse(result.stdout) as { requirements: string[]; stdout: string };
    expect(json.requirements).toEqual(['pycage-private-demo==3.1.0']);
    expect(json.stdout).toContain('from the private index');
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  });

  it('keeps the secret out of an install that fails, and out of the error shown for it', async () => {
    const result = await run(['run', 'private.py', '--index-url', privateUrl(), '--network', 'open', '--requirements', 'pycage-absent-demo', '--verbose']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/could not be installed/i);
    expect(result.stderr).not.toContain(secret);
  });

  it('a request pins and installs through it, the proposal names the plain-HTTP host, and the secret stays hidden', async () => {
    const fence = '```';
    const chat = await startChatServer([{ content: `Here:\n\n${fence}python\n${scriptNeeding('pycage-private-demo', 'import pycage_private_demo\nprint(pycage_private_demo.VALUE)')}\n${fence}\n` }]);
    try {
      // The package is the user's own on their index, so they vouch for it (the package gate).
      const result = await runCliProcess(['print the private value', '--yes', '--verbose', '--index-url', privateUrl(), '--network', 'open', '--allow-package', 'pycage-private-demo'], {
        cwd: directory,
        env: { ...env(), PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: chat.openaiBaseUrl, OPENAI_API_KEY: 'test-key', PYCAGE_MODEL: 'test-model' },
        hangBoundMs: 300_000,
      });
      expect(result.stdout).toContain('from the private index');
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`Sandbox: .*index over plain HTTP: ${gateway.replace(/\./g, '\\.')}`));
      // Pinned on the host through the agent, with the credentials the flags gave.
      expect(result.stderr).toContain('pycage-private-demo==3.1.0');
      expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
    } finally {
      await chat.close();
    }
  });

  it('keeps the secret out of the library: describe(), runtime events and log lines', async () => {
    const logs: LogEntry[] = [];
    const events: RuntimeEvent[] = [];
    const runtime = scratch.runtime({ indexUrl: privateUrl(), network: 'open', logger: (entry) => logs.push(entry), onEvent: (event) => events.push(event) });
    const info = await runtime.describe();
    expect(info.packageSource.indexUrl).toBe(privateUrl('***'));
    const result = await runtime.runScript(scriptNeeding('pycage-private-demo', 'import pycage_private_demo\nprint(pycage_private_demo.VALUE)\n'), {
      requirements: 'auto',
      onEvent: (event) => events.push(event),
    });
    expect(result.stdout).toBe('from the private index\n');
    expect(events.some((event) => event.type === 'install-done')).toBe(true);
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.stringify({ info, result, events, logs })).not.toContain(secret);
  });
});

describe('pycage requirements and doctor with a named index', () => {
  it('pins against http://user:secret@HOST/simple', async () => {
    const script = path.join(directory, 'pin-me.py');
    await mkdir(path.dirname(script), { recursive: true });
    await writeFile(script, scriptNeeding('pycage-private-demo', 'import pycage_private_demo\n'));
    const result = await run(['requirements', 'pin-me.py', '--index-url', privateUrl(), '--verbose']);
    expect(result.stdout).toBe('pycage-private-demo==3.1.0\n');
    expect(result.exitCode).toBe(0);
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  });

  it('doctor reports the index: reachable, answers the simple API, trusted for its host', async () => {
    const result = await run(['doctor', '--index-url', privateUrl()]);
    expect(result.stdout).toContain(`✓ Index    http://user:***@${gateway}:${privateIndex.port}/simple is reachable and answers the simple API · plain HTTP, trusted for ${gateway}`);
    expect(`${result.stdout}${result.stderr}`).not.toContain(secret);
  });

  it('doctor says plainly when the credentials are refused', async () => {
    const result = await run(['doctor', '--index-url', privateUrl('wrong-password'), '--json']);
    const json = JSON.parse(result.stdout) as { checks: Array<{ name: string; verdict: string; detail: string }> };
    const index = json.checks.find((check) => check.name === 'Index');
    expect(index?.verdict).toBe('fail');
    expect(index?.detail).toMatch(/HTTP 401/);
    expect(result.stdout).not.toContain('wrong-password');
  });
});
