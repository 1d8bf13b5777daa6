/**
 * pycage as a library: ask a model for Python, and run it where it cannot hurt the machine.
 *
 * ```ts
 * import { createRuntime, runAgent, providerFromEnvironment } from 'pycage';
 *
 * await using runtime = createRuntime({ isolate: true });
 * const provider = providerFromEnvironment();                     // GROQ_API_KEY from the environment
 * const outcome = await runAgent({ request: 'print the first 10 primes', provider, runtime });
 * console.log(outcome.result?.stdout);
 * ```
 */

export { PycageError, UsageError, AbortedError, PolicyError, ExitCode } from './errors.js';
export type { PycageErrorOptions } from './errors.js';
export { Logger } from './logger.js';
export type { LogEntry, LogLevel, LogSink } from './logger.js';

export {
  createProvider,
  defaultModels,
  loadInstruction,
  providerFromEnvironment,
  resolveModelConfig,
  InvalidModelConfigError,
  MissingApiKeyError,
  ModelAuthenticationError,
  ModelConnectionError,
  ModelError,
  ModelNotFoundError,
  ModelRateLimitError,
  ModelRequestError,
  ModelServerError,
  ModelTimeoutError,
} from './generator/index.js';
export type {
  ChatMessage,
  CreateProviderOptions,
  GenerateOptions,
  ModelConfig,
  ModelConfigInput,
  ModelErrorOptions,
  ModelProvider,
  ProviderFromEnvironmentOptions,
  ProviderName,
  TokenUsage,
} from './generator/index.js';

export { extractCode, NoCodeBlockError } from './extract/index.js';
export type { ExtractedCode, ExtractRule } from './extract/index.js';

export {
  checkRequirements,
  distributionForModule,
  gatePackages,
  inferRequirements,
  isStandardLibrary,
  parseImports,
  pinRequirements,
  supportedPythonVersions,
  PythonParserError,
  PythonVersionError,
} from './requirements/index.js';
export type {
  IndexFacts,
  InferOptions,
  InferredRequirements,
  PackageGateOptions,
  PackageSource,
  PinDetail,
  PinnedRequirements,
  PinOptions,
  RefusedPackage,
  ReleasePolicy,
  RequirementCheckOptions,
  RequirementDetail,
  RequirementOrigin,
  WheelPlatform,
} from './requirements/index.js';

export { checkDocker, createRuntime, prune, DockerUnavailableError, ImageError, InstallError, SandboxError } from './runtime/index.js';
export type {
  Artifact,
  BlockedConnection,
  CheckDockerOptions,
  CloseOptions,
  CreateProjectOptions,
  DockerCheck,
  DockerOptions,
  EnvironmentInfo,
  Installer,
  NetworkMode,
  NetworkReport,
  Project,
  PruneOptions,
  PythonError,
  RefusedArtifact,
  RequirementsOption,
  RunOptions,
  RunResult,
  Runtime,
  RuntimeEvent,
  RuntimeErrorOptions,
  RuntimeInfo,
  RuntimeOptions,
} from './runtime/index.js';

export { createSession, generateCode, runAgent } from './agent/index.js';
export type {
  GenerateCodeOptions,
  GeneratedCode,
  AgentEvent,
  AgentOptions,
  AgentResult,
  AgentRunOptions,
  AgentStatus,
  Attempt,
  AttemptStatus,
  AttemptTrigger,
  Proposal,
  ReviewDecision,
  Session,
  SessionOptions,
} from './agent/index.js';
