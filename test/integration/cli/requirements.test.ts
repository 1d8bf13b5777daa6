// `pycage requirements` on real files: the built executable, a wheelhouse and an index on 127.0.0.1.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../../helpers/cli.js';
import { buildWheel } from '../../helpers/wheels.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'pycage-cli-requirements-'));
  await buildWheel(path.join(directory, 'wheels'), { name: 'PyYAML', version: '6.0.2', files: { 'yaml/__init__.py': '' } });
  await buildWheel(path.join(directory, 'wheels'), { name: 'PyYAML', version: '5.4.1', files: { 'yaml/__init__.py': '' } });
  await writeFile(path.join(directory, 'helpers.py'), 'X = 1\n');
  await writeFile(
    path.join(directory, 'script.py'),
    'import os, json\nimport yaml\nfrom . import sibling\nimport helpers\ntry:\n    import cv2\nexcept ImportError:\n    cv2 = None\n',
  );
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('pycage requirements', () => {
  it('prints one requirement per line, pinned from --find-links, without stdlib, relative or sibling modules', async () => {
    const result = await runCliProcess(['requirements', 'script.py', '--find-links', 'wheels', '--no-index'], { cwd: directory });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(['PyYAML==6.0.2', 'opencv-python']);
    expect(result.stderr).toMatch(/opencv-python/); // not in the wheelhouse: left unpinned, with a warning
  });

  it('leaves requirements unpinned with a warning when the index does not answer', async () => {
    const result = await runCliProcess(['requirements', '-', '--index-url', 'http://127.0.0.1:9/simple'], { input: 'import requests\n' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('requests\n');
    expect(result.stderr).toContain('127.0.0.1:9');
    // Given up on for what the connection said (fetch refuses port 9 outright), not after waiting out
    // a timeout: that, not how fast, is what this checks (speed is bench/'s).
    expect(result.stderr).toMatch(/Could not reach http:\/\/127\.0\.0\.1:9\/simple \(.+\); left unpinned: requests\./);
    expect(result.stderr).not.toContain('no answer within');
  });

  it('follows PEP 723 inline metadata over the imports', async () => {
    const script = '# /// script\n# dependencies = ["rich>=13", "httpx==0.27.0"]\n# ///\nimport requests\n';
    const result = await runCliProcess(['requirements', '-', '--no-index'], { input: script });
    expect(result.stdout).toBe('rich>=13\nhttpx==0.27.0\n');
  });
});
