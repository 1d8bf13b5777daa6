// resolveModelConfig: options over environment over defaults, and the errors that name what to fix.
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import {
  defaultModels,
  InvalidModelConfigError,
  isLocalUrl,
  MissingApiKeyError,
  resolveModelConfig,
  type ModelConfigInput,
} from '../../../src/generator/index.js';

function catchError(input: ModelConfigInput): unknown {
  try {
    resolveModelConfig(input);
  } catch (error) {
    return error;
  }
  throw new Error('resolveModelConfig did not throw');
}

describe('resolveModelConfig', () => {
  it('defaults to Groq and its current production model', () => {
    const config = resolveModelConfig({ env: { GROQ_API_KEY: 'gsk-test' } });
    expect(config).toEqual({
      provider: 'groq',
      model: defaultModels.groq,
      apiKey: 'gsk-test',
      baseUrl: undefined,
      timeoutMs: 120_000,
      maxRetries: 2,
    });
    expect(defaultModels.groq).toBe('openai/gpt-oss-120b');
  });

  it('reads every variable from the environment', () => {
    const config = resolveModelConfig({
      env: {
        PYCAGE_PROVIDER: 'openai',
        PYCAGE_MODEL: 'my-model',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: 'https://openrouter.ai/api/v1/',
        GROQ_API_KEY: 'unused',
      },
    });
    expect(config).toMatchObject({ provider: 'openai', model: 'my-model', apiKey: 'sk-test', baseUrl: 'https://openrouter.ai/api/v1' });
  });

  it('lets options override the environment', () => {
    const config = resolveModelConfig({
      provider: 'groq',
      model: 'qwen/qwen3-32b',
      apiKey: 'from-flag',
      baseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 5000,
      maxRetries: 0,
      env: { PYCAGE_PROVIDER: 'openai', PYCAGE_MODEL: 'env-model', GROQ_API_KEY: 'from-env', GROQ_BASE_URL: 'https://elsewhere.example' },
    });
    expect(config).toEqual({
      provider: 'groq',
      model: 'qwen/qwen3-32b',
      apiKey: 'from-flag',
      baseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 5000,
      maxRetries: 0,
    });
  });

  it('treats empty variables as unset', () => {
    const config = resolveModelConfig({ env: { PYCAGE_PROVIDER: '', PYCAGE_MODEL: ' ', GROQ_API_KEY: 'k', GROQ_BASE_URL: '' } });
    expect(config).toMatchObject({ provider: 'groq', model: defaultModels.groq, baseUrl: undefined });
  });

  it('drops /openai/v1 from a Groq base URL, since groq-sdk adds it', () => {
    const config = resolveModelConfig({ env: { GROQ_API_KEY: 'k', GROQ_BASE_URL: 'https://api.groq.com/openai/v1/' } });
    expect(config.baseUrl).toBe('https://api.groq.com');
  });

  it('throws MissingApiKeyError naming GROQ_API_KEY when the Groq key is missing', () => {
    const error = catchError({ env: {} });
    expect(error).toBeInstanceOf(MissingApiKeyError);
    expect((error as MissingApiKeyError).variable).toBe('GROQ_API_KEY');
    expect((error as MissingApiKeyError).message).toContain('GROQ_API_KEY');
    expect((error as MissingApiKeyError).exitCode).toBe(ExitCode.model);
  });

  it('suggests the other provider when only its key is set', () => {
    const error = catchError({ env: { OPENAI_API_KEY: 'sk' } }) as MissingApiKeyError;
    expect(error.variable).toBe('GROQ_API_KEY');
    expect(error.hint).toContain('--provider openai');
  });

  it('requires OPENAI_API_KEY for api.openai.com and for other remote hosts', () => {
    for (const env of [{ PYCAGE_PROVIDER: 'openai' }, { PYCAGE_PROVIDER: 'openai', OPENAI_BASE_URL: 'https://openrouter.ai/api/v1' }]) {
      const error = catchError({ env });
      expect(error).toBeInstanceOf(MissingApiKeyError);
      expect((error as MissingApiKeyError).variable).toBe('OPENAI_API_KEY');
    }
  });

  it.each(['http://localhost:11434/v1', 'http://127.0.0.1:1234/v1', 'http://[::1]:8000/v1'])(
    'lets an openai-compatible server on this machine (%s) go without a key',
    (baseUrl) => {
      const config = resolveModelConfig({ provider: 'openai', model: 'llama3.2', env: { OPENAI_BASE_URL: baseUrl } });
      expect(config.apiKey).not.toBe('');
      expect(config.baseUrl).toBe(baseUrl);
    },
  );

  it('still wants a Groq key with a local base URL (only the openai provider serves local models)', () => {
    expect(catchError({ baseUrl: 'http://127.0.0.1:8080', env: {} })).toBeInstanceOf(MissingApiKeyError);
  });

  it('names PYCAGE_PROVIDER when it holds no provider (a usage error, exit 2)', () => {
    const error = catchError({ env: { PYCAGE_PROVIDER: 'gorq', GROQ_API_KEY: 'k' } });
    expect(error).toBeInstanceOf(InvalidModelConfigError);
    expect((error as InvalidModelConfigError).variable).toBe('PYCAGE_PROVIDER');
    expect((error as InvalidModelConfigError).message).toContain('"gorq"');
    expect((error as InvalidModelConfigError).exitCode).toBe(ExitCode.usage);
  });

  it('names the base URL variable when it is not an http(s) URL', () => {
    const error = catchError({ env: { PYCAGE_PROVIDER: 'openai', OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'localhost:11434' } });
    expect(error).toBeInstanceOf(InvalidModelConfigError);
    expect((error as InvalidModelConfigError).variable).toBe('OPENAI_BASE_URL');
  });

  it('names the option when an option is wrong', () => {
    const error = catchError({ timeoutMs: -1, env: { GROQ_API_KEY: 'k' } }) as InvalidModelConfigError;
    expect(error.variable).toBe('timeoutMs');
    expect(error.message).toContain('timeoutMs option');
  });

  it('never repeats the key in a message', () => {
    const error = catchError({ env: { PYCAGE_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-secret', OPENAI_BASE_URL: 'nope' } }) as Error;
    expect(error.message).not.toContain('sk-secret');
  });
});

describe('isLocalUrl', () => {
  it.each([
    ['http://localhost:11434/v1', true],
    ['http://127.0.0.1:8000', true],
    ['http://[::1]:8000/v1', true],
    ['http://ollama.localhost/v1', true],
    ['https://api.openai.com/v1', false],
    ['http://192.168.1.10:11434/v1', false],
    ['not a url', false],
  ])('%s -> %s', (url, expected) => {
    expect(isLocalUrl(url)).toBe(expected);
  });
});
