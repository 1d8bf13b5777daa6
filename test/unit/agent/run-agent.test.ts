// The agent loop with a fake model and a fake runtime: what each review decision does (run, edit,
// regenerate, skip), answers without code, the missing-module fix, retries after a failed run, the
// number of model answers spent, and abort in each phase. No model, no Docker, no network.
import { describe, expect, it } from 'vitest';
import { runAgent, type AgentEvent, type AgentOptions, type Proposal, type ReviewDecision } from '../../../src/agent/index.js';
import { AbortedError, ExitCode } from '../../../src/errors.js';
import type { Runtime } from '../../../src/runtime/index.js';
import { answer, fence, FakeModel, fakeRuntime, okResult } from './fakes.js';

function options(model: FakeModel, runtime: Runtime, extra: Partial<AgentOptions> = {}): AgentOptions {
  return { request: 'do it', provider: model, runtime, ...extra };
}

/** A reviewer that gives the decisions in order (the last one again when they run out) and keeps the proposals. */
function reviewer(...decisions: ReviewDecision[]): { review: (proposal: Proposal) => Promise<ReviewDecision>; proposals: Proposal[] } {
  const proposals: Proposal[] = [];
  return {
    proposals,
    review: async (proposal) => {
      proposals.push(proposal);
      return decisions[Math.min(proposals.length - 1, decisions.length - 1)]!;
    },
  };
}

/** The code extract takes from `answer(code)`: the block's lines, each ending with a newline. */
const extracted = (code: string): string => `${code}\n`;
const lastMessage = (model: FakeModel, request: number): string => model.requests[request]?.at(-1)?.content ?? '';
const failedRun = (name: string, message: string) =>
  okResult([], { exitCode: 1, stdout: '', stderr: `Traceback (most recent call last):\n${name}: ${message}\n`, error: { name, message, traceback: `${name}: ${message}` } });

describe('runAgent: review decisions', () => {
  it('runs edited code instead of the answer, with its requirements inferred again, as an `edited` attempt', async () => {
    const model = new FakeModel([answer('print("from the model")')]);
    const runtime = fakeRuntime({});
    const edited = '# /// script\n# dependencies = ["edited-dependency"]\n# ///\nprint("edited by the user")';
    const { review, proposals } = reviewer({ action: 'edit', code: edited }, { action: 'run' });
    const outcome = await runAgent(options(model, runtime, { review }));
    expect(outcome.status).toBe('succeeded');
    expect(runtime.runs.map((run) => run.code)).toEqual([edited]);
    expect(runtime.runs[0]?.requirements).toEqual(['edited-dependency']);
    expect(proposals.map((proposal) => [proposal.trigger, proposal.code])).toEqual([
      ['model', extracted('print("from the model")')],
      ['edited', edited],
    ]);
    expect(outcome.attempts).toHaveLength(1);
    expect(outcome.attempts[0]).toMatchObject({ number: 1, trigger: 'edited', status: 'succeeded', code: edited, requirements: ['edited-dependency'] });
    expect(outcome.attempts[0]?.answer).toBeUndefined();
    expect(outcome.code).toBe(edited);
    expect(model.requests).toHaveLength(1);
  });

  it('asks for another answer on regenerate, telling the model the code it passed over, without spending an attempt', async () => {
    const model = new FakeModel([answer('print("first")'), answer('print("second")')]);
    const runtime = fakeRuntime({});
    const { review } = reviewer({ action: 'regenerate' }, { action: 'run' });
    const events: AgentEvent[] = [];
    const outcome = await runAgent(options(model, runtime, { review, maxAttempts: 1, onEvent: (event) => events.push(event) }));
    expect(outcome.status).toBe('succeeded');
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]?.at(-2)?.content).toContain('print("first")');
    expect(lastMessage(model, 1)).toContain('chose not to run it');
    expect(outcome.attempts.map((attempt) => [attempt.status, attempt.code])).toEqual([
      ['skipped', extracted('print("first")')],
      ['succeeded', extracted('print("second")')],
    ]);
    expect(runtime.runs.map((run) => run.code)).toEqual([extracted('print("second")')]);
    expect(events).toContainEqual({ type: 'retry', attempt: 1, reason: 'asked for another answer' });
  });

  it('ends declined (exit 1, nothing run) on skip', async () => {
    const model = new FakeModel([answer('print("not wanted")')]);
    const runtime = fakeRuntime({});
    const { review } = reviewer({ action: 'skip' });
    const outcome = await runAgent(options(model, runtime, { review }));
    expect(outcome.status).toBe('declined');
    expect(outcome.exitCode).toBe(ExitCode.failure);
    expect(runtime.runs).toHaveLength(0);
    expect(outcome.attempts.map((attempt) => attempt.status)).toEqual(['skipped']);
    expect(outcome.code).toBe(extracted('print("not wanted")'));
    expect(outcome.result).toBeUndefined();
    expect(model.requests).toHaveLength(1);
  });
});

describe('runAgent: answers without code', () => {
  it('asks again after a block that is not Python, and ends no-code (exit 4) when every answer is spent', async () => {
    const shell = `Run this:\n\n${fence}bash\nls -la\n${fence}\n`;
    const model = new FakeModel([shell, shell]);
    const runtime = fakeRuntime({});
    const outcome = await runAgent(options(model, runtime, { maxAttempts: 2 }));
    expect(outcome.status).toBe('no-code');
    expect(outcome.exitCode).toBe(ExitCode.model);
    expect(outcome.attempts.map((attempt) => [attempt.status, attempt.answer])).toEqual([
      ['no-code', shell],
      ['no-code', shell],
    ]);
    expect(lastMessage(model, 1)).toContain('had no ```python code block');
    expect(outcome.message).toBeUndefined();
    expect(outcome.code).toBeUndefined();
    expect(runtime.runs).toHaveLength(0);
  });

  it("shows the model's words once, without retrying, and keeps them in the conversation", async () => {
    const words = 'Which city do you mean?';
    const model = new FakeModel([words]);
    const outcome = await runAgent(options(model, fakeRuntime({}), { maxAttempts: 3 }));
    expect(outcome.status).toBe('no-code');
    expect(outcome.message).toBe(words);
    expect(model.requests).toHaveLength(1);
    expect(outcome.history.at(-1)).toEqual({ role: 'assistant', content: words });
  });
});

describe('runAgent: failures', () => {
  it('adds the package a ModuleNotFoundError names and runs the same code again, with no model call', async () => {
    // PEP 723 wins over inference, so the import below is a real miss.
    const code = '# /// script\n# dependencies = []\n# ///\nimport yaml\nprint(yaml.safe_dump({}))';
    const model = new FakeModel([answer(code)], { promptTokens: 10, completionTokens: 5, totalTokens: 15 });
    const runtime = fakeRuntime({}, (run) =>
      run.requirements.some((requirement) => requirement.startsWith('PyYAML')) ? okResult(run.requirements) : failedRun('ModuleNotFoundError', "No module named 'yaml'"),
    );
    const events: AgentEvent[] = [];
    const outcome = await runAgent(options(model, runtime, { onEvent: (event) => events.push(event) }));
    expect(outcome.status).toBe('succeeded');
    expect(model.requests).toHaveLength(1);
    expect(runtime.runs.map((run) => run.requirements.map((requirement) => requirement.split('=')[0]))).toEqual([[], ['PyYAML']]);
    expect(outcome.attempts.map((attempt) => [attempt.trigger, attempt.status])).toEqual([
      ['model', 'failed'],
      ['missing-module', 'succeeded'],
    ]);
    // The model answer's time and tokens belong to the attempt that used it, not to the fix.
    expect(outcome.attempts[0]?.usage?.totalTokens).toBe(15);
    expect(outcome.attempts[1]?.usage).toBeUndefined();
    expect(outcome.attempts[1]?.modelDurationMs).toBe(0);
    expect(events).toContainEqual(expect.objectContaining({ type: 'module-missing', attempt: 1, module: 'yaml' }));
  });

  it('hands the failure back to the model, and ends failed with the script exit status after maxAttempts answers', async () => {
    const model = new FakeModel([answer('raise ValueError("first")'), answer('raise ValueError("second")')]);
    const runtime = fakeRuntime({}, () => ({ ...failedRun('ValueError', 'bad value'), exitCode: 3 }));
    const outcome = await runAgent(options(model, runtime, { maxAttempts: 2 }));
    expect(outcome.status).toBe('failed');
    expect(outcome.exitCode).toBe(3);
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]?.at(-2)?.content).toContain('raise ValueError("first")');
    expect(lastMessage(model, 1)).toContain('ValueError: bad value');
    expect(outcome.code).toBe(extracted('raise ValueError("second")'));
    expect(outcome.result?.exitCode).toBe(3);
    expect(outcome.attempts.map((attempt) => attempt.status)).toEqual(['failed', 'failed']);
  });
});

describe('runAgent: abort', () => {
  it('stops in review: nothing runs, the model is not asked again', async () => {
    const controller = new AbortController();
    const model = new FakeModel([answer('print(1)'), answer('print(2)')]);
    const runtime = fakeRuntime({});
    const review = async (): Promise<ReviewDecision> => {
      controller.abort();
      return { action: 'run' };
    };
    await expect(runAgent(options(model, runtime, { review, abortSignal: controller.signal }))).rejects.toBeInstanceOf(AbortedError);
    expect(runtime.runs).toHaveLength(0);
    expect(model.requests).toHaveLength(1);
  });

  it('stops after a run aborted in progress, without a retry', async () => {
    const controller = new AbortController();
    const model = new FakeModel([answer('print(1)'), answer('print(2)')]);
    const runtime = fakeRuntime({}, () => {
      controller.abort();
      return failedRun('KeyboardInterrupt', '');
    });
    await expect(runAgent(options(model, runtime, { abortSignal: controller.signal }))).rejects.toBeInstanceOf(AbortedError);
    expect(runtime.runs).toHaveLength(1);
    expect(runtime.runs[0]?.options?.abortSignal).toBe(controller.signal);
    expect(model.requests).toHaveLength(1);
  });

  it('asks nothing when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const model = new FakeModel([answer('print(1)')]);
    await expect(runAgent(options(model, fakeRuntime({}), { abortSignal: controller.signal }))).rejects.toBeInstanceOf(AbortedError);
    expect(model.requests).toHaveLength(0);
  });
});
