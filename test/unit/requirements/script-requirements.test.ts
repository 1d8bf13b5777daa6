// requirementsForScript: the one inference the runtime, the agent and the CLI share. Against the test
// index on 127.0.0.1 (simple JSON with upload times), so the policy fields reach pinning for real.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyError, UsageError } from '../../../src/errors.js';
import { gatePackages, inferRequirements, requirementsForScript, type ScriptSituation } from '../../../src/requirements/index.js';
import { startIndexServer, type IndexServer } from '../../helpers/index-server.js';

const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString();

let server: IndexServer;
let cacheDir: string;

beforeEach(async () => {
  server = await startIndexServer({
    packages: {
      'fresh-lib': [
        { version: '1.0', uploadTime: daysAgo(400) },
        { version: '2.0', uploadTime: daysAgo(1) },
      ],
      crispr: [{ version: '0.2', uploadTime: daysAgo(300) }],
      PyYAML: [{ version: '6.0.2', uploadTime: daysAgo(500) }],
    },
  });
  cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-script-requirements-'));
});

afterEach(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const imports = 'import yaml\nimport crispr\nimport fresh_lib\nimport helpers\n';
const metadata = '# /// script\n# dependencies = ["crispr", "PyYAML"]\n# ///\nimport crispr\n';

function situation(overrides: Partial<ScriptSituation> = {}): ScriptSituation {
  return { code: imports, author: 'user', pythonVersion: '3.12', packageSource: { indexUrl: server.simpleUrl }, policy: {}, cacheDir, ...overrides };
}

describe('requirementsForScript', () => {
  it('is inferRequirements with the situation spelled out, plus the gate under policy.allowPackages', async () => {
    const found = await requirementsForScript(situation({ localModules: ['helpers.py'], overrides: { fresh_lib: 'fresh-lib' } }));
    const expected = await inferRequirements(imports, { pythonVersion: '3.12', indexUrl: server.simpleUrl, localModules: ['helpers.py'], overrides: { fresh_lib: 'fresh-lib' }, cacheDir });
    expect(found).toEqual({ ...expected, refused: gatePackages(expected.details) });
    expect(found.requirements).toEqual(['PyYAML==6.0.2', 'crispr==0.2', 'fresh-lib==1.0']);
    expect(found.refused.map((entry) => [entry.name, entry.reason])).toEqual([['crispr', 'unknown']]);
  });

  it('passes the policy to pinning and the gate, and leaves out what a caller holds as undefined', async () => {
    const policy = { allowPackages: ['crispr'], allowSdist: undefined, allowUrlRequirements: undefined, minReleaseAgeDays: 0 };
    const found = await requirementsForScript(situation({ code: 'import crispr\nimport fresh_lib\n', policy, localModules: undefined, overrides: undefined, abortSignal: undefined, logger: undefined }));
    expect(found.requirements).toEqual(['crispr==0.2', 'fresh_lib==2.0']);
    expect(found.refused.map((entry) => entry.name)).toEqual(['fresh_lib']);
    expect((await requirementsForScript(situation({ policy: { allowPackages: ['*'] } }))).refused).toEqual([]);
  });

  it("trusts the user's inline metadata and judges a model's by its names", async () => {
    const user = await requirementsForScript(situation({ code: metadata }));
    expect(user.details.map((detail) => [detail.name, detail.origin])).toEqual([
      ['crispr', 'declared'],
      ['PyYAML', 'declared'],
    ]);
    expect(user.refused).toEqual([]);
    const model = await requirementsForScript(situation({ code: metadata, author: 'model' }));
    expect(model.details.map((detail) => [detail.name, detail.origin])).toEqual([
      ['crispr', 'unknown'],
      ['PyYAML', 'mapped'],
    ]);
    expect(model.refused.map((entry) => entry.name)).toEqual(['crispr']);
  });

  it('refuses a URL requirement unless the policy allows it, and a packageSource key it does not know', async () => {
    const url = '# /// script\n# dependencies = ["x @ http://127.0.0.1:9/x.tar.gz"]\n# ///\n';
    await expect(requirementsForScript(situation({ code: url }))).rejects.toBeInstanceOf(PolicyError);
    await expect(requirementsForScript(situation({ code: url, policy: { allowUrlRequirements: true } }))).resolves.toMatchObject({ requirements: ['x @ http://127.0.0.1:9/x.tar.gz'] });
    const misspelled = { indexUrl: server.simpleUrl, findLink: '/tmp' } as ScriptSituation['packageSource'];
    await expect(requirementsForScript(situation({ packageSource: misspelled }))).rejects.toBeInstanceOf(UsageError);
  });
});
