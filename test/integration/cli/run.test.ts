// `pycage run` as a user runs it: the built executable, the real Docker daemon, real files.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../helpers/cli.js';
import { waitForContainerCount } from '../../helpers/docker.js';
import { buildWheel } from '../../helpers/wheels.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-cli-run-'));
  await writeFile(path.join(directory, 'hello.py'), 'import sys\nprint("hello", *sys.argv[1:])\n');
  await writeFile(path.join(directory, 'fails.py'), 'import sys\nprint("partial")\nsys.exit(3)\n');
  await writeFile(path.join(directory, 'raises.py'), 'def f():\n    raise ValueError("bad value")\nf()\n');
  await writeFile(path.join(directory, 'loop.py'), 'import time\nprint("started", flush=True)\nwhile True:\n    time.sleep(0.05)\n');
  await writeFile(path.join(directory, 'latin1.py'), Buffer.from('print("caf\xe9")\n', 'latin1'));
  await writeFile(path.join(directory, 'empty.py'), '');
  await writeFile(path.join(directory, 'cookie.py'), Buffer.from('# -*- coding: latin-1 -*-\nprint("caf\xe9")\n', 'latin1'));
  await writeFile(path.join(directory, 'scores.csv'), 'name,score\nada,3\nbob,4\n');
  await writeFile(path.join(directory, 'reads_scores.py'), 'import csv\nprint(sum(int(row["score"]) for row in csv.DictReader(open("scores.csv"))))\n');
  await writeFile(path.join(directory, 'writes_then_fails.py'), 'import os\nos.makedirs("output", exist_ok=True)\nopen("output/partial.txt", "w").write("so far")\nraise SystemExit(5)\n');
  await writeFile(path.join(directory, 'plot.py'), 'import os\nos.makedirs("output", exist_ok=True)\nopen("output/result.txt", "w").write("made in the sandbox\\n")\nprint("saved")\n');
  await writeFile(path.join(directory, 'helpers.py'), 'def greet():\n    return "hi from a sibling module"\n');
  await writeFile(path.join(directory, 'uses_sibling.py'), 'import helpers\nprint(helpers.greet())\n');
  await mkdir(path.join(directory, 'wheels'));
  await buildWheel(path.join(directory, 'wheels'), { name: 'pycage-cli-demo', version: '1.4.0', files: { 'pycage_cli_demo/__init__.py': 'VALUE = "from a wheel"\n' } });
  await writeFile(path.join(directory, 'uses_wheel.py'), 'import pycage_cli_demo\nprint(pycage_cli_demo.VALUE)\n');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const run = (args: string[], options: Parameters<typeof runCliProcess>[1] = {}) => runCliProcess(args, { cwd: directory, ...options });

describe('pycage run', () => {
  it('runs a file, passes arguments after --, and exits 0', async () => {
    const result = await run(['run', 'hello.py', '--', 'big', 'world']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stdout).toBe('hello big world\n');
    expect(result.exitCode).toBe(0);
  });

  it('runs a script from stdin', async () => {
    const result = await run(['run', '-'], { input: 'print(6 * 7)\n' });
    expect(result.stdout).toBe('42\n');
    expect(result.exitCode).toBe(0);
  });

  it("exits with the script's own status", async () => {
    const result = await run(['run', 'fails.py']);
    expect(result.stdout).toBe('partial\n');
    expect(result.exitCode).toBe(3);
  });

  it('prints exactly one JSON object with --json, with the parsed traceback', async () => {
    const result = await run(['run', 'raises.py', '--json']);
    expect(result.exitCode).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ exitCode: 1, timedOut: false, oomKilled: false, outputTruncated: false, error: { name: 'ValueError', message: 'bad value' } });
    expect(json.error.traceback).toContain('Traceback (most recent call last)');
    expect(json.stderr).toContain('ValueError: bad value');
    expect(typeof json.durationMs).toBe('number');
    expect(Array.isArray(json.artifacts)).toBe(true);
  });

  it('stops a script at --timeout with exit 124', async () => {
    // loop.py never ends by itself: without the timeout this would run into runCliProcess's hang bound
    // and fail naming the command.
    const result = await run(['run', 'loop.py', '--timeout', '2']);
    expect(result.exitCode).toBe(124);
    expect(result.stdout).toBe('started\n');
    expect(result.stderr).toMatch(/time limit/);
  });

  it('brings files written to ./output back into --output', async () => {
    const output = path.join(directory, 'artifacts');
    const result = await run(['run', 'plot.py', '--output', output]);
    expect(result.exitCode).toBe(0);
    expect(await readFile(path.join(output, 'result.txt'), 'utf8')).toBe('made in the sandbox\n');
  });

  it('runs a latin-1 script by its coding cookie, as Python would', async () => {
    const result = await run(['run', 'cookie.py']);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.stdout).toBe('café\n');
    expect(result.exitCode).toBe(0);
  });

  it('copies a --file into the working directory', async () => {
    const result = await run(['run', 'reads_scores.py', '--file', 'scores.csv', '--no-output']);
    expect(result.stdout).toBe('7\n');
    expect(result.exitCode).toBe(0);
  });

  it('keeps and lists what a failing script wrote to ./output, with no flag', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'pycage-cli-run-output-'));
    try {
      await writeFile(path.join(cwd, 'writes_then_fails.py'), await readFile(path.join(directory, 'writes_then_fails.py')));
      const result = await runCliProcess(['run', 'writes_then_fails.py'], { cwd });
      expect(result.exitCode).toBe(5);
      expect(await readFile(path.join(cwd, 'output', 'partial.txt'), 'utf8')).toBe('so far');
      expect(result.stderr).toContain(path.join('output', 'partial.txt'));
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('reaches a host named with --allow-host through the egress proxy, shows what it blocked, and warns about --network open', async () => {
    // A service on this machine's loopback: reachable only because the user named it (the proxy runs here).
    const server = createServer((_request, response) => response.end('hello through the proxy\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    try {
      const script = [
        'import urllib.request',
        `print(urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=10).read().decode().strip())`,
        'try:',
        '    urllib.request.urlopen("http://169.254.169.254/latest/meta-data/", timeout=10)',
        'except Exception as error:',
        '    print("refused:", error)',
        '',
      ].join('\n');
      // Named by the user, 127.0.0.1 means this machine's loopback, reached through the proxy.
      const allowed = await run(['run', '-', '--allow-host', `127.0.0.1:${port}`], { input: script });
      expect(allowed.stdout).toContain('hello through the proxy');
      expect(allowed.stderr).toContain('blocked: 169.254.169.254:80 (link-local)');
      expect(allowed.stdout).toContain('refused: HTTP Error 403');
      const json = await run(['run', '-', '--json', '--network', 'none'], { input: 'print(1)\n' });
      expect(JSON.parse(json.stdout).network).toEqual({ mode: 'none', blocked: [] });
      const open = await run(['run', '-', '--network', 'open'], { input: 'print(1)\n' });
      expect(open.stderr).toContain('--network open');
      expect(open.stdout).toBe('1\n');
    } finally {
      server.close();
    }
  });

  it('sends a sibling module along instead of installing it', async () => {
    const result = await run(['run', 'uses_sibling.py', '--no-index']);
    expect(result.stdout).toBe('hi from a sibling module\n');
    expect(result.exitCode).toBe(0);
  });

  it('installs an inferred requirement from --find-links', async () => {
    const result = await run(['run', 'uses_wheel.py', '--find-links', 'wheels', '--no-index']);
    expect(result.stdout).toBe('from a wheel\n');
    expect(result.stderr).toContain('pycage_cli_demo==1.4.0');
    expect(result.exitCode).toBe(0);
  });

  it('runs with --local on this machine, saying loudly that nothing is isolated', async () => {
    const result = await run(['run', 'hello.py', '--local', '--memory', '64m', '--', 'local']);
    expect(result.stdout).toBe('hello local\n');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/--local: the script runs on this machine, with no sandbox/);
    expect(result.stderr).toMatch(/--memory is not enforced/);
  });

  it.each([
    [['run', 'missing.py'], /missing\.py: no such file/],
    [['run', 'latin1.py'], /latin1\.py is not UTF-8/],
    [['run', 'empty.py'], /empty\.py is empty/],
    [['run'], /Give the script to run/],
    [['run', 'hello.py', 'extra'], /put arguments for it after `--`/],
  ])('refuses %j with exit 2 and one clear line, no stack trace', async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says how to start Docker when it is not running (exit 3)', async () => {
    const result = await run(['run', 'hello.py'], { env: { DOCKER_HOST: `unix://${path.join(directory, 'no-docker.sock')}` } });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/Docker/);
    expect(result.stderr).toMatch(/start|DOCKER_HOST/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names an image that does not exist (exit 3)', async () => {
    const result = await run(['run', 'hello.py', '--image', 'pycage-no-such-image:never']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('pycage-no-such-image:never');
  });

  it('stops the run and removes its containers on SIGINT', async () => {
    let pid = 0;
    // Were SIGINT ignored, the run would end at --timeout 60 with exit 124 instead (and runCliProcess's
    // hang bound catches a run that does not end at all).
    const result = await run(['run', 'loop.py', '--timeout', '60'], {
      onSpawn: (child) => {
        pid = child.pid ?? 0;
        // Send SIGINT once the script is running, i.e. once it printed.
        child.stdout?.on('data', () => child.kill('SIGINT'));
      },
    });
    expect(result.exitCode).toBe(130);
    await waitForContainerCount({ ownerPid: pid }, 0);
  });
});
