/**
 * A fake model and a fake runtime for the agent's unit tests: both implement the small interfaces the
 * agent takes (ModelProvider, Runtime), answer from a script the test writes, and record what they were
 * asked, so a test can check the conversation and the runs without a model or Docker.
 */
import type { ChatMessage, GenerateOptions, ModelProvider, TokenUsage } from '../../../src/generator/index.js';
import type { RunOptions, RunResult, Runtime, RuntimeInfo } from '../../../src/runtime/index.js';

export const fence = '```';

/** A model answer with one python block. */
export const answer = (code: string): string => `Here:\n\n${fence}python\n${code}\n${fence}\n`;

/** Answers in order; `usage`, when given, is reported for every answer as an endpoint would. */
export class FakeModel implements ModelProvider {
  readonly name = 'openai' as const;
  readonly model = 'fake';
  readonly baseUrl = 'http://127.0.0.1:9';
  readonly requests: ChatMessage[][] = [];
  constructor(
    private readonly answers: string[],
    private readonly usage?: TokenUsage,
  ) {}
  async generate(options: GenerateOptions): Promise<string> {
    this.requests.push([...options.messages]);
    const next = this.answers.shift();
    if (next === undefined) throw new Error('the fake model has no more answers');
    if (this.usage !== undefined) options.onUsage?.(this.usage);
    return next;
  }
  async listModels(): Promise<string[]> {
    return [this.model];
  }
}

export interface FakeRun {
  code: string;
  requirements: readonly string[];
  options: RunOptions | undefined;
}

export function okResult(requirements: readonly string[], overrides: Partial<RunResult> = {}): RunResult {
  return { exitCode: 0, stdout: 'ok\n', stderr: '', timedOut: false, oomKilled: false, outputTruncated: false, durationMs: 1, requirements: [...requirements], artifacts: [], refusedArtifacts: [], network: { mode: 'none', blocked: [] }, ...overrides };
}

/** Records every run; `answer` decides each result (by default: success). */
export function fakeRuntime(info: Partial<RuntimeInfo>, answer: (run: FakeRun) => RunResult = (run) => okResult(run.requirements)): Runtime & { runs: FakeRun[] } {
  const runs: FakeRun[] = [];
  const full: RuntimeInfo = {
    isolated: true, image: 'fake', pythonVersion: '3.12', installer: 'pip', network: 'none', memoryBytes: 1, cpus: 1, timeoutMs: 1000, gvisor: false,
    packageSource: { noIndex: true }, ...info,
  };
  return {
    isolated: true,
    runs,
    start: async () => full,
    describe: async () => full,
    runScript: async (code: string, options?: RunOptions) => {
      const run = { code, requirements: Array.isArray(options?.requirements) ? [...(options.requirements as string[])] : [], options };
      runs.push(run);
      return answer(run);
    },
    createProject: async () => {
      throw new Error('not used');
    },
    runProject: async () => {
      throw new Error('not used');
    },
    close: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
}
