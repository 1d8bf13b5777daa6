import { describe, expect, it } from 'vitest';
import { blockedConnections } from '../../../src/runtime/index.js';
import { describeFailure, describeFiles, fillTemplate, followUpMessage, regenerateMessage, requestWithContext, retryMessage, tail } from '../../../src/agent/messages.js';
import { indexUnreachable, missingModule } from '../../../src/agent/missing-module.js';
import type { RunResult } from '../../../src/runtime/index.js';

function result(overrides: Partial<RunResult>): RunResult {
  return {
    exitCode: 1, stdout: '', stderr: '', timedOut: false, oomKilled: false, outputTruncated: false,
    durationMs: 10, requirements: [], artifacts: [], refusedArtifacts: [], network: { mode: 'public', blocked: [] }, ...overrides,
  };
}

describe('agent messages', () => {
  it('keeps the tail of long output and says it was cut', () => {
    const text = Array.from({ length: 100 }, (_, index) => `line ${index}`).join('\n');
    const kept = tail(text, 5, 10_000);
    expect(kept.split('\n')).toEqual(['[... earlier output cut ...]', 'line 95', 'line 96', 'line 97', 'line 98', 'line 99']);
    expect(tail('short\n', 5, 100)).toBe('short');
  });

  it('puts the code and the traceback into the retry message', async () => {
    const traceback = 'Traceback (most recent call last):\n  File "/work/main.py", line 1, in <module>\nNameError: name \'x\' is not defined';
    const failure = describeFailure(result({ stderr: traceback, error: { name: 'NameError', message: "name 'x' is not defined", traceback } }));
    const message = await retryMessage('print(x)\n', failure);
    expect(message).toContain('```python\nprint(x)\n```');
    expect(message).toContain("NameError: name 'x' is not defined");
    expect(message).toContain('It exited with status 1.');
    expect(message).not.toMatch(/\{\{\w+\}\}/);
  });

  it('explains timeouts and memory kills in plain words', () => {
    expect(describeFailure(result({ exitCode: 124, timedOut: true }), { timeoutMs: 2000 })).toContain('did not finish within the time limit 2 s');
    expect(describeFailure(result({ exitCode: 137, oomKilled: true }), { memoryBytes: 64 * 2 ** 20 })).toContain('memory limit of 64 MiB');
  });

  it('gives a follow-up the previous output', async () => {
    const message = await followUpMessage(result({ exitCode: 0, stdout: 'answer=42\n' }), 'now double it');
    expect(message).toContain('exited with status 0');
    expect(message).toContain('answer=42');
    expect(message).toContain('now double it');
  });

  it('leaves unknown placeholders visible', () => {
    expect(fillTemplate('a {{known}} {{unknown}}', { known: 'b' })).toBe('a b {{unknown}}');
  });

  it('finds the module a ModuleNotFoundError names', () => {
    const error = { name: 'ModuleNotFoundError', message: "No module named 'yaml'", traceback: '' };
    expect(missingModule(result({ error }))).toBe('yaml');
    expect(missingModule(result({ error: { ...error, message: "No module named 'google.cloud'" } }))).toBe('google.cloud');
    expect(missingModule(result({ error: { name: 'ValueError', message: 'no', traceback: '' } }))).toBeUndefined();
  });

  it('tells an unreachable index apart from a package that does not exist', () => {
    const install = (output: string) => result({ stderr: output, error: { name: 'InstallError', message: 'No matching distribution found for requests', traceback: output } });
    expect(indexUnreachable(install("WARNING: Retrying ... Failed to establish a new connection: [Errno -2] Name or service not known')': /simple/requests/"))).toBe(true);
    expect(indexUnreachable(install('error: Request failed after 3 retries\n  Caused by: error sending request for url (https://pypi.org/simple/requests/)'))).toBe(true);
    expect(indexUnreachable(install('ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)'))).toBe(false);
    expect(indexUnreachable(result({ stderr: 'Connection refused', error: { name: 'ConnectionError', message: 'Connection refused', traceback: '' } }))).toBe(false);
  });
});

describe('what the model is told about where its program runs', () => {
  it('states the network mode, the files with their first lines, and whether output/ is kept', async () => {
    const message = await requestWithContext('average the temperatures', {
      network: 'none',
      files: { 'data.csv': 'city,temperature\nOslo,4.5\n', 'image.png': Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) },
      outputKept: true,
    });
    expect(message.startsWith('average the temperatures\n')).toBe(true);
    expect(message).toMatch(/Network: none/);
    expect(message).toContain('data.csv (');
    expect(message).toContain('city,temperature');
    expect(message).toMatch(/image\.png \(7 bytes, binary\)/);
    expect(message).toMatch(/output\//);
    expect(message).not.toMatch(/\{\{\w+\}\}/);
  });

  it('sends names only without the preview, and says when nothing is kept', async () => {
    const message = await requestWithContext('x', { network: 'public', allowHosts: ['api.github.com'], files: { 'secret.txt': 'top secret line' }, filePreview: false, outputKept: false });
    expect(message).toContain('secret.txt');
    expect(message).not.toContain('top secret line');
    expect(message).toContain('only these hosts: api.github.com');
    expect(message).toMatch(/Nothing the program writes is kept/);
  });

  it('caps the preview: a few lines, each cut short', () => {
    const long = Array.from({ length: 50 }, (_, index) => `${index}:${'x'.repeat(500)}`).join('\n');
    const described = describeFiles({ 'big.txt': long }, true);
    expect(described).toContain('0:');
    expect(described).not.toContain('10:');
    expect(described.length).toBeLessThan(2000);
  });

  it('reads blocked connections defensively and puts them in the retry message', () => {
    expect(blockedConnections(result({}))).toEqual([]);
    const blocked = result({ network: { mode: 'public', blocked: [{ host: '169.254.169.254', port: 80, reason: 'link-local' }, 'junk'] } } as Partial<RunResult>);
    expect(blockedConnections(blocked)).toEqual([{ host: '169.254.169.254', port: 80, reason: 'link-local' }]);
    expect(describeFailure(blocked)).toContain('169.254.169.254:80 (link-local)');
  });

  it('asks for a different answer on regenerate', async () => {
    expect(await regenerateMessage()).toMatch(/different/);
  });
});
