/**
 * The model from flags and environment (--provider, --model, --instruction, GROQ_API_KEY...), for the
 * one-shot command, the session and `pycage doctor`. A file of its own so that doctor, which checks the
 * model, loads neither the agent loop nor the requirements stage for nothing.
 */
import { createProvider, resolveModelConfig, type ModelConfig, type ModelProvider } from '../generator/index.js';
import type { CliFlags } from './args.js';
import { readSource } from './input.js';
import type { CliIo } from './io.js';
import type { Reporter } from './reporter.js';

export interface ModelSetup {
  config: ModelConfig;
  provider: ModelProvider;
  /** `groq openai/gpt-oss-120b`, for messages. */
  label: string;
  /** The caller's instruction file (--instruction), when given. */
  instruction: string | undefined;
}

/** Provider, model and key from --provider, --model and the environment; a missing key throws, naming its variable. */
export function modelConfigFrom(flags: CliFlags, io: CliIo): ModelConfig {
  return resolveModelConfig({
    ...(flags.provider === undefined ? {} : { provider: flags.provider }),
    ...(flags.model === undefined ? {} : { model: flags.model }),
    env: io.env,
  });
}

/** The model's client, logging with --verbose. */
export function providerFor(config: ModelConfig, reporter: Reporter): ModelProvider {
  return createProvider(config, reporter.logSink === undefined ? {} : { logger: reporter.logSink });
}

/** Resolves provider, model and key (see modelConfigFrom) and reads --instruction. */
export async function setUpModel(flags: CliFlags, io: CliIo, reporter: Reporter): Promise<ModelSetup> {
  const config = modelConfigFrom(flags, io);
  const provider = providerFor(config, reporter);
  const instruction = flags.instruction === undefined ? undefined : (await readSource(io, flags.instruction, 'an instruction')).text;
  return { config, provider, label: `${config.provider} ${config.model}`, instruction };
}
