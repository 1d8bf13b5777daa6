/**
 * P6: the agent (`runAgent`) with a model that answers at once vs the same run alone
 * (`runtime.runScript`). Target: <= 1.15.
 *
 * The model is the test helper's chat-completions server on 127.0.0.1, reached through the real openai
 * SDK; it answers hello world in a fenced block with no delay. The agent runs with its defaults
 * (requirements inferred with the real parser), one attempt. Both sides share one warm runtime, and the
 * daemon settles before every sample. A second figure with `requirements: 'none'` separates the cost of
 * reading imports from the cost of the model round trip.
 */
import { performance } from 'node:perf_hooks';
import { createProvider, resolveModelConfig, runAgent, type ModelProvider, type Runtime } from '../src/index.js';
import { startChatServer } from '../test/helpers/chat-server.js';
import { compare, type BenchOutcome, type Comparison } from './lib/compare.js';
import { expectOutput, hello, helloOutput, roundsFor, type BenchContext } from './lib/context.js';
import { waitForPool } from './lib/docker.js';
import { formatMs, median } from './lib/stats.js';

export async function benchP6(context: BenchContext): Promise<BenchOutcome> {
  const server = await startChatServer([{ content: `Here is the script:\n\n\`\`\`python\n${hello}\`\`\`\n` }]);
  try {
    const provider: ModelProvider = createProvider(
      resolveModelConfig({ provider: 'openai', model: 'bench-model', apiKey: 'bench-key', baseUrl: server.openaiBaseUrl, maxRetries: 0, env: {} }),
    );
    const poolSize = 2;
    const runtime = context.runtime({ poolSize });
    await runtime.start();
    // Time between the agent's successive events, per phase name (`start -> generating`...).
    const phases = new Map<string, number[]>();

    const agentSide = (requirements: 'auto' | 'none', record: boolean) => ({
      label: `runAgent (instant model, requirements ${requirements})`,
      run: async () => {
        const marks: Array<[string, number]> = [['call', performance.now()]];
        const outcome = await runAgent({
          request: 'print hello world',
          provider,
          runtime,
          requirements,
          maxAttempts: 1,
          onEvent: (event) => {
            if (event.type !== 'output' && event.type !== 'runtime') marks.push([event.type, performance.now()]);
          },
        });
        marks.push(['return', performance.now()]);
        if (outcome.status !== 'succeeded' || outcome.result === undefined) throw new Error(`agent ended ${outcome.status}`);
        expectOutput(outcome.result, helloOutput);
        if (record) {
          for (let index = 1; index < marks.length; index += 1) {
            const name = `${marks[index - 1]![0]} -> ${marks[index]![0]}`;
            const list = phases.get(name) ?? [];
            list.push(marks[index]![1] - marks[index - 1]![1]);
            phases.set(name, list);
          }
        }
      },
    });
    const runAlone = (target: Runtime) => ({
      label: 'runtime.runScript(hello)',
      run: async () => expectOutput(await target.runScript(hello), helloOutput),
    });
    const measure = (id: string, title: string, requirements: 'auto' | 'none', record: boolean, notes: string[]): Promise<Comparison> =>
      compare(
        {
          id,
          title,
          a: agentSide(requirements, record),
          b: runAlone(runtime),
          rounds: roundsFor(context, 30),
          warmup: 3,
          target: 1.15,
          settle: () => waitForPool(runtime),
          command: 'npm run bench -- P6',
          notes,
        },
        context.log,
      );

    const comparisons = [
      await measure('P6', 'agent with an instant model vs the run alone', 'auto', true, ['agent defaults: requirements inferred (tree-sitter), one model call']),
      await measure('P6-none', 'the same with requirements none', 'none', false, ['diagnostic: no import reading, only the model round trip']),
    ];
    const details = [
      [
        'P6 breakdown: median time between the agent\'s events (requirements auto; model call = model-start -> code-ready):',
        ...[...phases.entries()].map(([name, values]) => `    ${name.padEnd(32)} ${formatMs(median(values)).padStart(9)}  (n=${values.length})`),
      ].join('\n'),
    ];
    await runtime.close();
    return { comparisons, details };
  } finally {
    await server.close();
  }
}
