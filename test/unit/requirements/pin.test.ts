// Pinning against a real HTTP index on 127.0.0.1 (PyPI JSON API, PEP 691 JSON, PEP 503 HTML), a
// wheelhouse built by the tests, an index that does not answer, and the on-disk cache.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import type { LogEntry } from '../../../src/logger.js';
import { pinRequirements } from '../../../src/requirements/index.js';
import { defaultCacheDirectory } from '../../../src/cache-directory.js';
import { closedPort, startIndexServer, type IndexPackages, type IndexServer } from '../../helpers/index-server.js';
import { buildWheel } from '../../helpers/wheels.js';

const packages: IndexPackages = {
  requests: ['2.31.0', '2.32.2', { version: '2.32.3' }, '2.33.0rc1'],
  PyYAML: ['6.0.1', '6.0.2'],
  'scikit-learn': ['1.4.2', '1.5.0', { version: '1.5.1', yanked: 'broken wheel' }],
  numpy: ['1.26.4', { version: '2.2.0', requiresPython: '>=3.10' }],
  'only-pre': ['0.1a1', '0.1b1'],
  'all-yanked': [{ version: '1.0', yanked: true }],
};

let server: IndexServer;
let cacheDir: string;

beforeEach(async () => {
  server = await startIndexServer({ packages });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-pin-'));
});

afterEach(async () => {
  vi.useRealTimers();
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('pinRequirements, PyPI JSON API', () => {
  it('pins bare names to the newest final, non-yanked release and keeps the rest as written', async () => {
    const result = await pinRequirements(
      ['requests', 'pyyaml', 'scikit-learn', 'numpy>=1.26', 'pkg==1.0', 'rich[jupyter]', 'x @ https://example.com/x.whl', 'attrs; python_version<"3.12"'],
      { jsonApiUrl: server.jsonApiUrl, cacheDir },
    );
    expect(result).toMatchObject({
      requirements: ['requests==2.32.3', 'pyyaml==6.0.2', 'scikit-learn==1.5.0', 'numpy>=1.26', 'pkg==1.0', 'rich[jupyter]', 'x @ https://example.com/x.whl', 'attrs; python_version<"3.12"'],
      warnings: [],
    });
    // Only the bare names were looked up, each under its PEP 503 name.
    expect(server.requests.map((request) => request.path).sort()).toEqual(['/pypi/pyyaml/json', '/pypi/requests/json', '/pypi/scikit-learn/json']);
  });

  it('skips releases whose Requires-Python excludes the target Python', async () => {
    const old = await pinRequirements(['numpy'], { jsonApiUrl: server.jsonApiUrl, cacheDir, pythonVersion: '3.9' });
    expect(old.requirements).toEqual(['numpy==1.26.4']);
    const current = await pinRequirements(['numpy'], { jsonApiUrl: server.jsonApiUrl, cacheDir, pythonVersion: '3.12' });
    expect(current.requirements).toEqual(['numpy==2.2.0']);
  });

  it('takes a pre-release only when nothing else exists, and warns when every release is yanked', async () => {
    const result = await pinRequirements(['only-pre', 'all-yanked'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(result.requirements).toEqual(['only-pre==0.1b1', 'all-yanked']);
    expect(result.warnings).toEqual([expect.stringMatching(/all-yanked has no usable release .*every release is yanked/)]);
  });

  it('leaves a name the index does not know unpinned, saying it may not exist', async () => {
    const result = await pinRequirements(['requests', 'no-such-package'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(result.requirements).toEqual(['requests==2.32.3', 'no-such-package']);
    expect(result.warnings).toEqual([`no-such-package is not on ${server.jsonApiUrl}: the package may not exist under that name. Left unpinned.`]);
  });

  it('uses `info` when the answer has no `releases`', async () => {
    const bare = await startIndexServer({ packages: { requests: ['2.31.0', '2.32.3'] }, omitReleases: true });
    try {
      const result = await pinRequirements(['requests'], { jsonApiUrl: bare.jsonApiUrl, cacheDir });
      expect(result.requirements).toEqual(['requests==2.32.3']);
    } finally {
      await bare.close();
    }
  });
});

describe('pinRequirements, simple API', () => {
  it('asks for PEP 691 JSON and reads it', async () => {
    const result = await pinRequirements(['requests', 'scikit_learn', 'numpy'], { indexUrl: server.simpleUrl, cacheDir, pythonVersion: '3.9' });
    expect(result).toMatchObject({ requirements: ['requests==2.32.3', 'scikit_learn==1.5.0', 'numpy==1.26.4'], warnings: [] });
    const requests = server.requests.filter((request) => request.path === '/simple/scikit-learn/');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.accept).toContain('application/vnd.pypi.simple.v1+json');
  });

  it('falls back to PEP 503 HTML when that is all the index speaks', async () => {
    const result = await pinRequirements(['requests', 'PyYAML', 'scikit-learn', 'numpy', 'missing'], {
      indexUrl: `${server.htmlSimpleUrl}/`,
      cacheDir,
      pythonVersion: '3.9',
    });
    expect(result.requirements).toEqual(['requests==2.32.3', 'PyYAML==6.0.2', 'scikit-learn==1.5.0', 'numpy==1.26.4', 'missing']);
    // HTML pages carry no upload times: this round's cooldown cannot apply, and a warning says so.
    expect(result.warnings).toEqual([
      expect.stringMatching(/gives no upload times, so releases younger than 7 days could not be skipped for: requests, PyYAML, scikit-learn, numpy\.$/),
      expect.stringContaining('missing is not on'),
    ]);
    const noCooldown = await pinRequirements(['requests'], { indexUrl: `${server.htmlSimpleUrl}/`, cacheDir, pythonVersion: '3.9', minReleaseAgeDays: 0 });
    expect(noCooldown.warnings).toEqual([]);
  });

  it('parses versions out of real file names: build tags, dashed names, odd archives', async () => {
    server.setPackages({
      'my-dashed-name': [
        { version: '1.0', files: ['my-dashed-name-1.0.tar.gz'] },
        { version: '1.2', files: ['my_dashed_name-1.2-1-cp312-cp312-manylinux_2_17_x86_64.whl'] },
        { version: '1.10', files: ['My.Dashed.Name-1.10.zip'] },
        { version: '9.0', files: ['my-dashed-name-extra-9.0.tar.gz', 'other-9.0-py3-none-any.whl', 'my_dashed_name-9.0-py2.7.egg'] },
      ],
    });
    // Sdist-only releases count only with allowSdist (this round's wheels-only rule); without it the
    // newest release with a wheel (1.2) is the pin.
    const result = await pinRequirements(['my-dashed-name'], { indexUrl: server.htmlSimpleUrl, cacheDir, allowSdist: true });
    expect(result.requirements).toEqual(['my-dashed-name==1.10']);
    const wheelsOnly = await pinRequirements(['my-dashed-name'], { indexUrl: server.htmlSimpleUrl, cacheDir });
    expect(wheelsOnly.requirements).toEqual(['my-dashed-name==1.2']);
  });
});

describe('pinRequirements, find-links and no-index', () => {
  it('pins from the wheels and sdists in a wheelhouse, without asking the index', async () => {
    const wheelhouse = path.join(cacheDir, 'wheelhouse');
    await buildWheel(wheelhouse, { name: 'pycage-demo', version: '0.9.0', files: { 'pycage_demo/__init__.py': 'X = 1\n' } });
    await buildWheel(wheelhouse, { name: 'pycage-demo', version: '0.10.0', files: { 'pycage_demo/__init__.py': 'X = 2\n' } });
    await buildWheel(wheelhouse, { name: 'pycage-demo', version: '0.11.0rc1', files: { 'pycage_demo/__init__.py': 'X = 3\n' } });
    await writeFile(path.join(wheelhouse, 'other_lib-2.0.tar.gz'), '');
    // other-lib has only an sdist: pinned with allowSdist (this round's wheels-only rule), not without.
    const result = await pinRequirements(['pycage_demo', 'other-lib', 'absent'], { findLinks: wheelhouse, noIndex: true, cacheDir, allowSdist: true });
    expect(result.requirements).toEqual(['pycage_demo==0.10.0', 'other-lib==2.0', 'absent']);
    const wheelsOnly = await pinRequirements(['other-lib'], { findLinks: wheelhouse, noIndex: true, cacheDir });
    expect(wheelsOnly.requirements).toEqual(['other-lib']);
    expect(wheelsOnly.details).toEqual([expect.objectContaining({ name: 'other-lib', refusal: expect.objectContaining({ policy: 'no-wheel' }) })]);
    expect(result.warnings).toEqual([expect.stringContaining(`absent is not on the find-links location ${wheelhouse}`)]);
    expect(server.requests).toHaveLength(0);
  });

  it('asks the index for what the wheelhouse lacks when an index is allowed', async () => {
    const wheelhouse = path.join(cacheDir, 'wheelhouse');
    await buildWheel(wheelhouse, { name: 'requests', version: '2.0.0', files: { 'requests/__init__.py': '' } });
    const result = await pinRequirements(['requests', 'pyyaml'], { findLinks: wheelhouse, jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(result.requirements).toEqual(['requests==2.0.0', 'pyyaml==6.0.2']);
    expect(server.requests.map((request) => request.path)).toEqual(['/pypi/pyyaml/json']);
  });

  it('reports a wheelhouse that does not exist', async () => {
    const missing = path.join(cacheDir, 'nowhere');
    const result = await pinRequirements(['requests'], { findLinks: missing, noIndex: true, cacheDir });
    expect(result).toMatchObject({ requirements: ['requests'], warnings: [`Could not reach the find-links location ${missing} (no such directory); left unpinned: requests.`] });
  });

  it('pins nothing with no index and no find-links', async () => {
    expect(await pinRequirements(['requests'], { noIndex: true, jsonApiUrl: server.jsonApiUrl, cacheDir })).toMatchObject({ requirements: ['requests'], warnings: [] });
    expect(await pinRequirements(['requests'], { pin: false, jsonApiUrl: server.jsonApiUrl, cacheDir })).toMatchObject({ requirements: ['requests'], warnings: [] });
    expect(server.requests).toHaveLength(0);
  });
});

// An index that does not answer here never answers while the test runs (delayMs 600_000), so only
// pycage's own timeout or the caller's abort can end a lookup: nothing races a timer, and the test's
// own timeout is the guard should they not.
describe('pinRequirements when nothing answers', () => {
  it('returns unpinned requirements and one warning naming the index, at once, for a closed port', async () => {
    const port = await closedPort();
    const indexUrl = `http://127.0.0.1:${port}/simple`;
    // A timeout far past the test's own: only taking the refusal as the answer lets this finish.
    const result = await pinRequirements(['requests', 'rich', 'numpy==2.0'], { indexUrl, cacheDir, timeoutMs: 600_000 });
    expect(result).toMatchObject({
      requirements: ['requests', 'rich', 'numpy==2.0'],
      warnings: [`Could not reach ${indexUrl} (connection refused); left unpinned: requests, rich.`],
    });
  });

  it('gives up on an index slower than the timeout', async () => {
    const slow = await startIndexServer({ packages, delayMs: 600_000 });
    try {
      const result = await pinRequirements(['requests'], { jsonApiUrl: slow.jsonApiUrl, cacheDir, timeoutMs: 200 });
      expect(result).toMatchObject({ requirements: ['requests'], warnings: [`Could not reach ${slow.jsonApiUrl} (no answer within 200 ms); left unpinned: requests.`] });
    } finally {
      await slow.close();
    }
  });

  it('stops asking an index that has not answered, instead of waiting a timeout per name', async () => {
    const slow = await startIndexServer({ packages, delayMs: 600_000 });
    try {
      const names = ['requests', 'pyyaml', 'numpy', 'rich', 'httpx', 'attrs'];
      const result = await pinRequirements(names, { jsonApiUrl: slow.jsonApiUrl, cacheDir, timeoutMs: 200, concurrency: 2 });
      expect(result.requirements).toEqual(names);
      expect(result.warnings).toEqual([`Could not reach ${slow.jsonApiUrl} (no answer within 200 ms); left unpinned: ${names.join(', ')}.`]);
      expect(slow.requests).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });

  it('treats a 5xx as no answer', async () => {
    const failing = await startIndexServer({ packages, status: 503 });
    try {
      const result = await pinRequirements(['requests'], { indexUrl: failing.simpleUrl, cacheDir });
      expect(result.warnings).toEqual([`Could not reach ${failing.simpleUrl} (HTTP 503); left unpinned: requests.`]);
    } finally {
      await failing.close();
    }
  });

  it('throws AbortedError when the caller aborts, unlike an index failure', async () => {
    const slow = await startIndexServer({ packages, delayMs: 600_000 });
    try {
      const controller = new AbortController();
      const pinning = pinRequirements(['requests'], { jsonApiUrl: slow.jsonApiUrl, cacheDir, timeoutMs: 600_000, abortSignal: controller.signal });
      // Aborted while its request waits on the index.
      await slow.waitForRequests(1);
      controller.abort();
      await expect(pinning).rejects.toBeInstanceOf(AbortedError);
    } finally {
      await slow.close();
    }
  });
});

describe('the version cache', () => {
  it('answers a second call from disk, without a request', async () => {
    const first = await pinRequirements(['requests', 'pyyaml', 'no-such-package'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(server.requests).toHaveLength(3);
    server.setPackages({ requests: ['9.9.9'], PyYAML: ['9.9.9'] });
    const second = await pinRequirements(['requests', 'pyyaml', 'no-such-package'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(server.requests).toHaveLength(3);
    expect(second).toEqual(first);
    const file = JSON.parse(await readFile(path.join(cacheDir, 'versions.json'), 'utf8')) as { entries: Record<string, { version: string | null }> };
    expect(Object.values(file.entries).map((entry) => entry.version).sort()).toEqual(['2.32.3', '6.0.2', null]);
  });

  it('asks again once an answer is older than the TTL, and keys answers by source and Python version', async () => {
    // Only the clock is faked (the HTTP index needs real timers): the answer ages without a sleep.
    vi.useFakeTimers({ toFake: ['Date'] });
    await pinRequirements(['requests'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    server.setPackages({ requests: ['2.32.3', '2.33.0'] });
    vi.setSystemTime(Date.now() + 20);
    const expired = await pinRequirements(['requests'], { jsonApiUrl: server.jsonApiUrl, cacheDir, cacheTtlMs: 10 });
    expect(expired.requirements).toEqual(['requests==2.33.0']);
    await pinRequirements(['requests'], { indexUrl: server.simpleUrl, cacheDir });
    await pinRequirements(['requests'], { jsonApiUrl: server.jsonApiUrl, cacheDir, pythonVersion: '3.11' });
    expect(server.requests.map((request) => request.path)).toEqual(['/pypi/requests/json', '/pypi/requests/json', '/simple/requests/', '/pypi/requests/json']);
  });

  it('does not cache an index that did not answer', async () => {
    const port = await closedPort();
    await pinRequirements(['requests'], { jsonApiUrl: `http://127.0.0.1:${port}/pypi`, cacheDir });
    await expect(readFile(path.join(cacheDir, 'versions.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('ignores a corrupt cache file and a cache directory it cannot write', async () => {
    await writeFile(path.join(cacheDir, 'versions.json'), '{not json');
    const logs: LogEntry[] = [];
    const result = await pinRequirements(['requests'], { jsonApiUrl: server.jsonApiUrl, cacheDir, logger: (entry) => logs.push(entry) });
    expect(result.requirements).toEqual(['requests==2.32.3']);
    const blocked = path.join(cacheDir, 'file-not-dir');
    await writeFile(blocked, '');
    const again = await pinRequirements(['pyyaml'], { jsonApiUrl: server.jsonApiUrl, cacheDir: path.join(blocked, 'sub'), logger: (entry) => logs.push(entry) });
    expect(again.requirements).toEqual(['pyyaml==6.0.2']);
    expect(logs.some((entry) => entry.component === 'Requirements' && entry.message.includes('Could not write the version cache'))).toBe(true);
  });

  it('lives under XDG_CACHE_HOME when set, else ~/.cache/pycage', () => {
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/pycage');
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: 'relative' })).toMatch(/\.cache\/pycage$/);
    expect(defaultCacheDirectory({})).toMatch(/\.cache\/pycage$/);
  });
});

describe('concurrency', () => {
  it('never has more requests open than asked', async () => {
    const slow = await startIndexServer({ packages: Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`pkg${index}`, ['1.0']])), delayMs: 50 });
    try {
      const result = await pinRequirements(
        Array.from({ length: 8 }, (_, index) => `pkg${index}`),
        { jsonApiUrl: slow.jsonApiUrl, cacheDir, concurrency: 2 },
      );
      expect(result.requirements).toEqual(Array.from({ length: 8 }, (_, index) => `pkg${index}==1.0`));
      expect(slow.requests).toHaveLength(8);
      expect(slow.peakConcurrentRequests).toBe(2);
    } finally {
      await slow.close();
    }
  });
});

describe('pinRequirements, an index that wants credentials', () => {
  let privateIndex: IndexServer;
  beforeEach(async () => {
    privateIndex = await startIndexServer({ packages, basicAuth: { username: 'user', password: 'pin-secret' } });
  });
  afterEach(async () => {
    await privateIndex.close();
  });

  const withCredentials = (url: string, password = 'pin-secret'): string => url.replace('http://', `http://user:${password}@`);

  it('sends the credentials of the URL as Basic authorization, and pins', async () => {
    const logs: LogEntry[] = [];
    const result = await pinRequirements(['requests'], { indexUrl: withCredentials(privateIndex.simpleUrl), cacheDir, logger: (entry) => logs.push(entry) });
    expect(result).toMatchObject({ requirements: ['requests==2.32.3'], warnings: [] });
    expect(privateIndex.requests.at(-1)?.authorization).toBe(`Basic ${Buffer.from('user:pin-secret').toString('base64')}`);
    expect(JSON.stringify(logs)).not.toContain('pin-secret');
    // The answer is cached under the URL without credentials: the cache file holds no secret.
    const cacheFile = await readFile(path.join(cacheDir, 'versions.json'), 'utf8');
    expect(cacheFile).toContain(`simple:${privateIndex.simpleUrl}`);
    expect(cacheFile).not.toContain('pin-secret');
  });

  it('masks the password in the warning when the index refuses it', async () => {
    const logs: LogEntry[] = [];
    const result = await pinRequirements(['requests'], { indexUrl: withCredentials(privateIndex.simpleUrl, 'wrong-secret'), cacheDir, logger: (entry) => logs.push(entry) });
    expect(result.requirements).toEqual(['requests']);
    expect(result.warnings).toEqual([expect.stringContaining('user:***@127.0.0.1')]);
    expect(result.warnings[0]).toMatch(/HTTP 401: the index refused the credentials/);
    expect(JSON.stringify([result, logs])).not.toContain('wrong-secret');
  });
});
