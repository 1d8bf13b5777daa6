// The package gate's ground: each requirement's origin, what the index says about a project, pins that
// skip too-new releases and releases with no wheel for the sandbox, and the gate's refusals. Against
// the test index on 127.0.0.1 (PyPI JSON API and PEP 691/700 simple JSON with upload times).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError, UsageError } from '../../../src/errors.js';
import { gatePackages, inferRequirements, pinRequirements, type RequirementDetail } from '../../../src/requirements/index.js';
import { startIndexServer, type IndexPackages, type IndexServer } from '../../helpers/index-server.js';
import { buildWheel } from '../../helpers/wheels.js';

const dayMs = 86_400_000;
const daysAgo = (days: number): string => new Date(Date.now() - days * dayMs).toISOString();

const packages: IndexPackages = {
  // 2.0 was uploaded yesterday: inside the 7-day cooldown.
  'fresh-lib': [
    { version: '1.0', uploadTime: daysAgo(400) },
    { version: '2.0', uploadTime: daysAgo(1) },
  ],
  // The newest release has wheels for Windows and macOS only.
  'foreign-wheels': [
    { version: '1.0', uploadTime: daysAgo(300), files: ['foreign_wheels-1.0-cp312-cp312-manylinux_2_17_x86_64.whl', 'foreign_wheels-1.0.tar.gz'] },
    { version: '1.1', uploadTime: daysAgo(200), files: ['foreign_wheels-1.1-cp312-cp312-win_amd64.whl', 'foreign_wheels-1.1-cp312-cp312-macosx_11_0_arm64.whl', 'foreign_wheels-1.1.tar.gz'] },
  ],
  'sdist-only': [{ version: '0.3', uploadTime: daysAgo(90), files: ['sdist_only-0.3.tar.gz'] }],
  'brand-new': [{ version: '0.0.1', uploadTime: daysAgo(2) }],
  crispr: [
    { version: '0.1', uploadTime: '2025-03-02T10:00:00Z' },
    { version: '0.2', uploadTime: '2025-04-01T10:00:00Z' },
  ],
  requests: [{ version: '2.32.3', uploadTime: daysAgo(500) }],
  PyYAML: [{ version: '6.0.2', uploadTime: daysAgo(500) }],
};

let server: IndexServer;
let cacheDir: string;

beforeEach(async () => {
  server = await startIndexServer({ packages, summaries: { crispr: 'CRISPR tools' } });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-gate-'));
});

afterEach(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('pins under pycage rules', () => {
  for (const [label, source] of [
    ['PyPI JSON API', () => ({ jsonApiUrl: server.jsonApiUrl })],
    ['simple JSON (PEP 700 upload times)', () => ({ indexUrl: server.simpleUrl })],
  ] as const) {
    it(`skips a release younger than the cooldown (${label})`, async () => {
      const result = await pinRequirements(['fresh-lib'], { ...source(), cacheDir, pythonVersion: '3.12' });
      expect(result.requirements).toEqual(['fresh-lib==1.0']);
      const noCooldown = await pinRequirements(['fresh-lib'], { ...source(), cacheDir, pythonVersion: '3.12', minReleaseAgeDays: 0 });
      expect(noCooldown.requirements).toEqual(['fresh-lib==2.0']);
    });

    it(`chooses the newest release with a wheel for the sandbox, not one with only foreign wheels (${label})`, async () => {
      const result = await pinRequirements(['foreign-wheels'], { ...source(), cacheDir, pythonVersion: '3.12' });
      expect(result.requirements).toEqual(['foreign-wheels==1.0']);
    });

    it(`passes over an sdist-only project unless allowSdist (${label})`, async () => {
      const result = await pinRequirements(['sdist-only'], { ...source(), cacheDir, pythonVersion: '3.12' });
      expect(result.requirements).toEqual(['sdist-only']);
      expect(result.details[0]?.refusal).toMatchObject({ policy: 'no-wheel', reason: expect.stringContaining('--allow-sdist') });
      const allowed = await pinRequirements(['sdist-only'], { ...source(), cacheDir, pythonVersion: '3.12', allowSdist: true });
      expect(allowed.requirements).toEqual(['sdist-only==0.3']);
    });

    it(`says when every release is too new (${label})`, async () => {
      const result = await pinRequirements(['brand-new'], { ...source(), cacheDir });
      expect(result.details[0]?.refusal).toMatchObject({ policy: 'too-new', reason: expect.stringContaining('--min-release-age') });
    });
  }

  it('reports what the index says: first release, number of releases, summary', async () => {
    const json = await pinRequirements(['crispr', 'no-such-thing'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(json.details).toEqual([
      { name: 'crispr', version: '0.2', from: 'index', facts: { exists: true, releaseCount: 2, firstReleaseDate: '2025-03-02', summary: 'CRISPR tools' } },
      { name: 'no-such-thing', facts: { exists: false } },
    ]);
    const simple = await pinRequirements(['crispr'], { indexUrl: server.simpleUrl, cacheDir });
    expect(simple.details[0]?.facts).toEqual({ exists: true, releaseCount: 2, firstReleaseDate: '2025-03-02' });
    // A second lookup comes from the cache, facts included.
    const before = server.requests.length;
    const cached = await pinRequirements(['crispr'], { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(server.requests.length).toBe(before);
    expect(cached.details[0]?.facts).toMatchObject({ summary: 'CRISPR tools' });
  });
});

describe('origins in inferRequirements', () => {
  it('tells mapped, popular, unknown and declared apart, with the import and the index facts', async () => {
    const code = 'import yaml\nimport requests\nimport crispr\nimport cv2 as vision\n';
    const result = await inferRequirements(code, { jsonApiUrl: server.jsonApiUrl, cacheDir, overrides: { cv2: 'opencv-python-headless' } });
    expect(result.requirements).toEqual(['PyYAML==6.0.2', 'requests==2.32.3', 'crispr==0.2', 'opencv-python-headless']);
    const byName = Object.fromEntries(result.details.map((detail) => [detail.name, detail]));
    expect(byName.PyYAML).toMatchObject({ origin: 'mapped', module: 'yaml' });
    expect(byName.requests).toMatchObject({ origin: 'popular', module: 'requests', popularRank: expect.any(Number) });
    expect(byName.crispr).toMatchObject({ origin: 'unknown', module: 'crispr', index: { exists: true, releaseCount: 2 } });
    expect(byName['opencv-python-headless']).toMatchObject({ origin: 'declared', module: 'cv2' });
  });

  it('calls a package the --find-links folder holds local', async () => {
    const wheelhouse = path.join(cacheDir, 'wheels');
    await buildWheel(wheelhouse, { name: 'mystery-lib', version: '1.2.0', files: { 'mystery_lib/__init__.py': '' } });
    const result = await inferRequirements('import mystery_lib\n', { findLinks: wheelhouse, noIndex: true, cacheDir });
    expect(result.details).toEqual([expect.objectContaining({ requirement: 'mystery_lib==1.2.0', name: 'mystery_lib', origin: 'local' })]);
  });

  it("trusts the user's PEP 723 list, and judges a model's by its names", async () => {
    const code = '# /// script\n# dependencies = ["crispr", "PyYAML", "requests>=2"]\n# ///\nimport crispr\n';
    const trusted = await inferRequirements(code, { pin: false });
    expect(trusted.details.map((detail) => detail.origin)).toEqual(['declared', 'declared', 'declared']);
    const model = await inferRequirements(code, { pin: false, trustInlineMetadata: false });
    expect(model.details.map((detail) => [detail.name, detail.origin])).toEqual([
      ['crispr', 'unknown'],
      ['PyYAML', 'mapped'],
      ['requests', 'popular'],
    ]);
  });

  it('refuses URL requirements in PEP 723 (exit 5) unless allowed, and option lines as usage errors', async () => {
    const url = '# /// script\n# dependencies = ["x @ http://127.0.0.1:9/x.tar.gz"]\n# ///\n';
    await expect(inferRequirements(url, { pin: false })).rejects.toBeInstanceOf(PolicyError);
    await expect(inferRequirements(url, { pin: false, allowUrlRequirements: true })).resolves.toMatchObject({ requirements: ['x @ http://127.0.0.1:9/x.tar.gz'] });
    const option = '# /// script\n# dependencies = ["--index-url=http://127.0.0.1:9/simple", "requests"]\n# ///\n';
    await expect(inferRequirements(option, { pin: false })).rejects.toBeInstanceOf(UsageError);
  });

  it('reports host-application modules as not installable and never asks the index', async () => {
    const code = 'import maya.cmds as cmds\nfrom maya import OpenMaya\nimport nuke\nimport hou\nimport arcpy\nimport c4d\nimport pymxs\nimport rhinoscriptsyntax\nimport unreal\nimport maya\n';
    const result = await inferRequirements(code, { jsonApiUrl: server.jsonApiUrl, cacheDir });
    // `maya` alone is a date library on PyPI; only its host-application submodules are Maya's.
    expect(result.requirements).toEqual(['maya']);
    expect(server.requests.map((request) => request.path)).toEqual(['/pypi/maya/json']);
    expect(result.warnings).toEqual(expect.arrayContaining([expect.stringContaining('maya.cmds exists only inside Autodesk Maya'), expect.stringContaining('nuke exists only inside Foundry Nuke')]));
  });

  it('names the specific distribution of a namespace package', async () => {
    const result = await inferRequirements('import azure.cognitiveservices.speech as speechsdk\n', { pin: false });
    expect(result.requirements).toEqual(['azure-cognitiveservices-speech']);
  });
});

describe('gatePackages', () => {
  const detail = (name: string, origin: RequirementDetail['origin'], extra: Partial<RequirementDetail> = {}): RequirementDetail => ({ requirement: name, name, origin, ...extra });

  it('refuses unknown packages only, naming the package and --allow-package, with the index facts', () => {
    const refused = gatePackages([
      detail('requests', 'popular'),
      detail('PyYAML', 'mapped'),
      detail('mine', 'local'),
      detail('pinned', 'declared'),
      detail('pdf_marker', 'unknown', { module: 'pdf_marker', index: { exists: false } }),
      detail('crispr', 'unknown', { index: { exists: true, releaseCount: 2, firstReleaseDate: '2025-03-02', summary: 'CRISPR tools' } }),
    ]);
    expect(refused.map((entry) => [entry.name, entry.reason])).toEqual([
      ['pdf_marker', 'unknown'],
      ['crispr', 'unknown'],
    ]);
    expect(refused[0]?.message).toContain('--allow-package pdf_marker');
    expect(refused[0]?.message).toContain('no such project');
    expect(refused[1]?.message).toMatch(/first release 2025-03-02, 2 releases, "CRISPR tools"/);
  });

  it('lets through what allowPackages names (normalized), or anything with *', () => {
    const details = [detail('Pdf_Marker', 'unknown'), detail('crispr', 'unknown')];
    expect(gatePackages(details, { allowPackages: ['pdf-marker'] }).map((entry) => entry.name)).toEqual(['crispr']);
    expect(gatePackages(details, { allowPackages: ['*'] })).toEqual([]);
  });

  it('refuses a package whose every release was passed over, whatever its origin', () => {
    const refused = gatePackages([detail('sdist-only', 'popular', { refusal: { policy: 'no-wheel', reason: 'it offers only source distributions' } })], { allowPackages: ['*'] });
    expect(refused).toEqual([expect.objectContaining({ name: 'sdist-only', reason: 'no-wheel', message: expect.stringContaining('--allow-sdist') })]);
  });
});
