// generateCode and the instruction file: message order, what comes back, and the prompt itself.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { NoCodeBlockError } from '../../../src/extract/index.js';
import { generateCode } from '../../../src/agent/index.js';
import { loadInstruction, type ChatMessage, type GenerateOptions, type ModelProvider } from '../../../src/generator/index.js';

/** A provider of our own interface (not an SDK) that answers from a script and remembers what it was asked. */
function scriptedProvider(answer: string): ModelProvider & { calls: GenerateOptions[] } {
  const calls: GenerateOptions[] = [];
  return {
    name: 'openai',
    model: 'scripted',
    baseUrl: 'http://127.0.0.1:1/v1',
    calls,
    async generate(options) {
      calls.push(options);
      options.onText?.(answer);
      return answer;
    },
    async listModels() {
      return ['scripted'];
    },
  };
}

const answer = 'Sure:\n\n```python\nprint(42)\n```\n';

describe('loadInstruction', () => {
  it('reads prompts/instruction.md: one python block, imports, print, raise, the output directory', async () => {
    const instruction = await loadInstruction();
    expect(instruction).toContain('```python');
    expect(instruction).toMatch(/exactly one code block/);
    expect(instruction).toMatch(/import/);
    expect(instruction).toMatch(/[Pp]rint/);
    expect(instruction).toMatch(/raise an exception/);
    expect(instruction).toMatch(/`output` directory of the current working directory/);
  });

  it('reads a file the caller names instead', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'pycage-instruction-'));
    try {
      const path = join(directory, 'mine.md');
      await writeFile(path, '\nOnly ever print 42.\n\n');
      expect(await loadInstruction(path)).toBe('Only ever print 42.');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('gives a UsageError for a file that is not there', async () => {
    await expect(loadInstruction('/nonexistent/instruction.md')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('generateCode', () => {
  it('puts the instruction first, the history between, and the request last', async () => {
    const provider = scriptedProvider(answer);
    const history: ChatMessage[] = [
      { role: 'user', content: 'fetch the data' },
      { role: 'assistant', content: '```python\nprint("data")\n```' },
    ];
    const result = await generateCode({ request: 'now plot it', provider, instruction: 'INSTRUCTION', history });

    expect(provider.calls[0]?.messages).toEqual([{ role: 'system', content: 'INSTRUCTION' }, ...history, { role: 'user', content: 'now plot it' }]);
    expect(result).toMatchObject({ code: 'print(42)\n', rule: 'python-block', answer });
    expect(result.reason).toContain('python');
    expect(result.messages.at(-1)).toEqual({ role: 'assistant', content: answer });
    expect(result.messages).toHaveLength(5);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('uses prompts/instruction.md when no instruction is given', async () => {
    const provider = scriptedProvider(answer);
    await generateCode({ request: 'x', provider });
    expect(provider.calls[0]?.messages[0]).toEqual({ role: 'system', content: await loadInstruction() });
  });

  it('passes abortSignal and onText through to the provider', async () => {
    const provider = scriptedProvider(answer);
    const controller = new AbortController();
    const seen: string[] = [];
    await generateCode({ request: 'x', provider, instruction: 'I', abortSignal: controller.signal, onText: (text) => seen.push(text) });
    expect(provider.calls[0]?.abortSignal).toBe(controller.signal);
    expect(seen).toEqual([answer]);
  });

  it('throws NoCodeBlockError carrying the answer when there is no code', async () => {
    const error = await generateCode({ request: 'x', provider: scriptedProvider('I cannot do that.'), instruction: 'I' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoCodeBlockError);
    expect((error as NoCodeBlockError).answer).toBe('I cannot do that.');
  });
});
