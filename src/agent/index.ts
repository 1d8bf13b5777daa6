/**
 * The agent: joins the generator and the runtime into the loop users touch. One request with
 * `runAgent`, a conversation with `createSession`.
 */
export { generateCode } from './generate-code.js';
export type { GenerateCodeOptions, GeneratedCode } from './generate-code.js';
export { indexUnreachable } from './missing-module.js';
export { runAgent } from './run-agent.js';
export type { AgentOptions, AgentRunOptions } from './run-agent.js';
export { createSession } from './session.js';
export type { Session, SessionOptions } from './session.js';
export type {
  AgentEvent,
  AgentResult,
  AgentStatus,
  Attempt,
  AttemptStatus,
  AttemptTrigger,
  Proposal,
  ReviewDecision,
} from './types.js';
