/**
 * A conversation with the agent: each request sees the earlier requests, the code that answered them
 * and what that code printed, so "now plot it" works. The session owns no resources; the runtime and
 * the provider it is given stay the caller's to close.
 */
import type { RunResult } from '../runtime/index.js';
import type { ChatMessage } from '../generator/index.js';
import type { OptionKeys } from '../options.js';
import { agentOptionKeys, checkAgentOptions, runAgent, type AgentOptions } from './run-agent.js';
import type { AgentResult } from './types.js';

export type SessionOptions = Omit<AgentOptions, 'request' | 'history' | 'previousResult'>;

export interface Session {
  /** Runs one request in the conversation. Options given here override the session's for this request. */
  ask(request: string, overrides?: Partial<SessionOptions>): Promise<AgentResult>;
  /** The conversation so far, as the model sees it (without the system instruction). */
  readonly history: readonly ChatMessage[];
  /** Every request's outcome, oldest first. */
  readonly results: readonly AgentResult[];
  /** Forget the conversation; the next request starts fresh. */
  reset(): void;
}

const { request: _request, history: _history, previousResult: _previousResult, ...sessionOptionKeys } = agentOptionKeys;
sessionOptionKeys satisfies OptionKeys<SessionOptions>;

export function createSession(options: SessionOptions): Session {
  checkAgentOptions('createSession', options, sessionOptionKeys);
  let history: ChatMessage[] = [];
  let previousResult: RunResult | undefined;
  const results: AgentResult[] = [];
  return {
    async ask(request, overrides = {}) {
      checkAgentOptions('session.ask', overrides, sessionOptionKeys, true);
      const outcome = await runAgent({
        ...options,
        ...overrides,
        request,
        history,
        ...(previousResult === undefined ? {} : { previousResult }),
      });
      results.push(outcome);
      history = outcome.history;
      // A request that ran nothing leaves the previous output as the latest the model knows of.
      if (outcome.result !== undefined) previousResult = outcome.result;
      return outcome;
    },
    get history() {
      return history;
    },
    get results() {
      return results;
    },
    reset() {
      history = [];
      previousResult = undefined;
      results.length = 0;
    },
  };
}
