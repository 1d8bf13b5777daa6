/**
 * A preload for timing a whole `pycage` process from the inside (`node --import tsx --import
 * ./bench/lib/phase-clock.ts dist/cli/main.js ...`): every Docker API request and every line pycage
 * writes to stderr, with its offset from the process's start, written at exit to the file named by
 * PYCAGE_BENCH_TIMELINE. Used by `npm run bench -- P2 --trace` to show where a one-shot run's time goes.
 * (Loading tsx and dockerode up front shifts the absolute start by a few tens of ms; the gaps between
 * events are what matter.)
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { takeCalls, traceDockerCalls } from './trace.js';

const lines: Array<{ at: number; text: string }> = [];
const loadedAt = performance.now();
traceDockerCalls();

const originalWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  for (const line of text.split('\n')) if (line.trim() !== '') lines.push({ at: performance.now(), text: line.trim().slice(0, 90) });
  return (originalWrite as (...parameters: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

process.on('exit', () => {
  const file = process.env.PYCAGE_BENCH_TIMELINE;
  if (file === undefined) return;
  const events: Array<{ at: number; text: string }> = [
    { at: loadedAt, text: 'preload done (node started, tsx and dockerode loaded)' },
    ...takeCalls().map((call) => ({
      at: call.startedAt,
      text: `docker ${call.kind} (${Number.isNaN(call.endedAt) ? 'open at exit' : `${Math.round(call.endedAt - call.startedAt)} ms`})`,
    })),
    ...lines.map((line) => ({ at: line.at, text: `stderr: ${line.text}` })),
    { at: performance.now(), text: 'exit' },
  ].sort((left, right) => left.at - right.at);
  writeFileSync(file, events.map((event) => `${String(Math.round(event.at)).padStart(6)} ms  ${event.text}`).join('\n'));
});
