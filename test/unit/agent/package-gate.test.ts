// The agent's package gate, with a fake model and a fake runtime (the small ModelProvider and Runtime
// interfaces) and the test index on 127.0.0.1: an unknown package goes back to the model once, then to
// review flagged, or is refused (exit 5) unless allowed; the missing-module fix only adds a module the
// code imports and goes through review and the gate again; URL requirements are refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAgent, type AgentOptions, type Proposal, type ReviewDecision } from '../../../src/agent/index.js';
import { ExitCode, PolicyError } from '../../../src/errors.js';
import type { RunResult, Runtime } from '../../../src/runtime/index.js';
import { startIndexServer, type IndexServer } from '../../helpers/index-server.js';
import { answer, FakeModel, type FakeRun, fakeRuntime, okResult } from './fakes.js';

let server: IndexServer;
const oldEnough = new Date(Date.now() - 400 * 86_400_000).toISOString();

beforeEach(async () => {
  server = await startIndexServer({ packages: { crispr: [{ version: '0.2', uploadTime: oldEnough }], PyYAML: [{ version: '6.0.2', uploadTime: oldEnough }] }, summaries: { crispr: 'CRISPR tools' } });
});

afterEach(async () => {
  await server.close();
});

function options(model: FakeModel, runtime: Runtime, extra: Partial<AgentOptions> = {}): AgentOptions {
  return { request: 'do it', provider: model, runtime, ...extra };
}

// The agent pins against the runtime's package source: the test index's simple JSON (PEP 691/700).
function indexRuntime(answerRun?: (run: FakeRun) => RunResult): Runtime & { runs: FakeRun[] } {
  return fakeRuntime({ packageSource: { indexUrl: server.simpleUrl } }, answerRun);
}

describe('unknown packages in the agent', () => {
  it('tells the model once (naming the package and that the index does not have it), and runs its answer without it', async () => {
    const model = new FakeModel([answer('import pdf_marker\nprint(pdf_marker.run())'), answer('print("done with the standard library")')]);
    const runtime = indexRuntime();
    const outcome = await runAgent(options(model, runtime));
    expect(outcome.status).toBe('succeeded');
    expect(model.requests).toHaveLength(2);
    const told = model.requests[1]?.at(-1)?.content ?? '';
    expect(told).toContain('pdf_marker');
    expect(told).toContain('does not exist on the package index');
    expect(outcome.attempts.map((attempt) => attempt.status)).toEqual(['refused', 'succeeded']);
    expect(runtime.runs).toHaveLength(1);
    expect(runtime.runs[0]?.requirements).toEqual([]);
  });

  it('refuses (exit 5, nothing run) when the second answer still needs it and nobody can say yes', async () => {
    const code = 'import crispr\nprint(crispr.cut())';
    const model = new FakeModel([answer(code), answer(code)]);
    const runtime = indexRuntime();
    const outcome = await runAgent(options(model, runtime));
    expect(outcome.status).toBe('refused');
    expect(outcome.exitCode).toBe(ExitCode.policy);
    expect(runtime.runs).toHaveLength(0);
    expect(outcome.refused?.map((entry) => entry.name)).toEqual(['crispr']);
    expect(outcome.refused?.[0]?.message).toContain('--allow-package crispr');
    expect(model.requests).toHaveLength(2);
  });

  it('shows the second answer to review flagged, with what the index says; a yes installs it, a refusal refuses', async () => {
    const code = 'import crispr\nprint(crispr.cut())';
    for (const [decision, expected] of [
      [{ action: 'run' }, 'succeeded'],
      [{ action: 'refuse' }, 'refused'],
    ] as Array<[ReviewDecision, string]>) {
      const model = new FakeModel([answer(code), answer(code)]);
      const runtime = indexRuntime();
      const proposals: Proposal[] = [];
      const outcome = await runAgent(options(model, runtime, { review: async (proposal) => {
      proposals.push(proposal);
      return decision;
    } }));
      expect(outcome.status).toBe(expected);
      expect(proposals).toHaveLength(1);
      expect(proposals[0]?.flagged).toEqual([
        expect.objectContaining({ name: 'crispr', reason: 'unknown', index: expect.objectContaining({ exists: true, releaseCount: 1 }) }),
      ]);
      expect(proposals[0]?.packages).toEqual([expect.objectContaining({ name: 'crispr', origin: 'unknown' })]);
      expect(runtime.runs.map((run) => run.requirements)).toEqual(expected === 'succeeded' ? [['crispr==0.2']] : []);
    }
  });

  it('lets an allowed package through without telling the model', async () => {
    const model = new FakeModel([answer('import crispr\nprint(crispr.cut())')]);
    const runtime = indexRuntime();
    const outcome = await runAgent(options(model, runtime, { allowPackages: ['crispr'] }));
    expect(outcome.status).toBe('succeeded');
    expect(model.requests).toHaveLength(1);
    expect(runtime.runs[0]?.requirements).toEqual(['crispr==0.2']);
  });

  it("judges the model's own PEP 723 list like its imports", async () => {
    const code = '# /// script\n# dependencies = ["crispr"]\n# ///\nprint("hi")';
    const model = new FakeModel([answer(code), answer(code)]);
    const runtime = indexRuntime();
    const outcome = await runAgent(options(model, runtime));
    expect(outcome.status).toBe('refused');
    expect(runtime.runs).toHaveLength(0);
  });
});

describe('the missing-module fix', () => {
  const forged = (run: FakeRun): RunResult =>
    okResult(run.requirements, {
      exitCode: 1,
      stdout: '',
      stderr: "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nModuleNotFoundError: No module named 'evil_pkg'\n",
      error: { name: 'ModuleNotFoundError', message: "No module named 'evil_pkg'", traceback: "ModuleNotFoundError: No module named 'evil_pkg'" },
    });

  it('ignores a ModuleNotFoundError the script only printed: the code imports no such module', async () => {
    const code = 'import sys\nprint("Traceback (most recent call last):\\nModuleNotFoundError: No module named \'evil_pkg\'", file=sys.stderr)\nsys.exit(1)';
    const model = new FakeModel([answer(code), answer('print("fine")')]);
    const runtime = indexRuntime((run) => (run.code.includes('evil_pkg') ? forged(run) : okResult(run.requirements)));
    const proposals: Proposal[] = [];
    const outcome = await runAgent(options(model, runtime, { review: async (proposal) => {
      proposals.push(proposal);
      return { action: 'run' };
    }, allowPackages: ['*'] }));
    expect(runtime.runs.flatMap((run) => run.requirements)).not.toContain('evil_pkg');
    expect(outcome.attempts.map((attempt) => attempt.trigger)).toEqual(['model', 'model']);
    expect(proposals.map((proposal) => proposal.trigger)).toEqual(['model', 'model']);
  });

  // PEP 723 wins over inference: a module the code imports but its block forgot is a real miss.
  const forgetful = '# /// script\n# dependencies = []\n# ///\nimport crispr\nprint(crispr.cut())';
  const missingCrispr = (run: FakeRun): RunResult =>
    run.requirements.some((requirement) => requirement.startsWith('crispr'))
      ? okResult(run.requirements)
      : okResult(run.requirements, { exitCode: 1, error: { name: 'ModuleNotFoundError', message: "No module named 'crispr'", traceback: '' } });

  it('sends the package it adds through review again, flagged when unknown', async () => {
    const model = new FakeModel([answer(forgetful)]);
    const runtime = indexRuntime(missingCrispr);
    const proposals: Proposal[] = [];
    const outcome = await runAgent(options(model, runtime, { review: async (proposal) => {
      proposals.push(proposal);
      return { action: 'run' };
    } }));
    expect(outcome.status).toBe('succeeded');
    expect(proposals.map((proposal) => [proposal.trigger, proposal.flagged.map((entry) => entry.name)])).toEqual([
      ['model', []],
      ['missing-module', ['crispr']],
    ]);
    expect(runtime.runs.map((run) => run.requirements)).toEqual([[], ['crispr==0.2']]);
  });

  it('refuses an unknown package it would add when nobody can say yes (exit 5), unless allowed', async () => {
    const refusedRuntime = indexRuntime(missingCrispr);
    const refused = await runAgent(options(new FakeModel([answer(forgetful)]), refusedRuntime));
    expect(refused.status).toBe('refused');
    expect(refused.exitCode).toBe(ExitCode.policy);
    expect(refusedRuntime.runs.map((run) => run.requirements)).toEqual([[]]);

    const allowedRuntime = indexRuntime(missingCrispr);
    const allowed = await runAgent(options(new FakeModel([answer(forgetful)]), allowedRuntime, { allowPackages: ['crispr'] }));
    expect(allowed.status).toBe('succeeded');
    expect(allowedRuntime.runs.map((run) => run.requirements)).toEqual([[], ['crispr==0.2']]);
  });
});

describe('URL requirements in the agent', () => {
  it("refuses a URL in the model's PEP 723 block (exit 5, nothing run) unless allowed", async () => {
    const code = '# /// script\n# dependencies = ["x @ http://127.0.0.1:9/x.tar.gz"]\n# ///\nprint("hi")';
    const runtime = fakeRuntime({});
    const outcome = await runAgent({ request: 'do it', provider: new FakeModel([answer(code)]), runtime });
    expect(outcome.status).toBe('refused');
    expect(outcome.exitCode).toBe(ExitCode.policy);
    expect(outcome.refused).toEqual([expect.objectContaining({ reason: 'url', requirement: 'x @ http://127.0.0.1:9/x.tar.gz' })]);
    expect(runtime.runs).toHaveLength(0);

    const allowed = fakeRuntime({});
    const ran = await runAgent({ request: 'do it', provider: new FakeModel([answer(code)]), runtime: allowed, allowUrlRequirements: true });
    expect(ran.status).toBe('succeeded');
    expect(allowed.runs[0]?.requirements).toEqual(['x @ http://127.0.0.1:9/x.tar.gz']);
  });

  it('refuses a URL in the caller\'s requirement list before asking the model', async () => {
    const model = new FakeModel([answer('print(1)')]);
    await expect(runAgent({ request: 'do it', provider: model, runtime: fakeRuntime({}), requirements: ['file:///tmp/x.whl'] })).rejects.toBeInstanceOf(PolicyError);
    expect(model.requests).toHaveLength(0);
  });
});
