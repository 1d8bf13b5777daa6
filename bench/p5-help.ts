/**
 * P5: `pycage --help` vs `node -e 0`. Target: <= 2.0.
 *
 * Both are whole Node processes; the difference is what the CLI loads before it can print its help.
 * The breakdown lists the modules `--help` reaches through static imports (dynamic `import()` is how
 * the heavy stages stay out of it) and times importing the CLI's entry module in a fresh process.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, type BenchOutcome } from './lib/compare.js';
import { roundsFor, type BenchContext } from './lib/context.js';
import { cliPath } from '../test/helpers/cli.js';
import { importMs, runChecked, runProcess } from './lib/processes.js';
import { formatMs } from './lib/stats.js';

/** Files reached from `entry` by static `import ... from '...'` / `export ... from '...'` (not `import()`). */
export function staticImports(entry: string): Array<{ file: string; bytes: number }> {
  const seen = new Map<string, number>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.set(file, statSync(file).size);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"()]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) {
        seen.set(specifier, 0);
        continue;
      }
      visit(path.resolve(path.dirname(file), specifier));
    }
  };
  visit(entry);
  return [...seen.entries()].map(([file, bytes]) => ({ file, bytes }));
}

export async function benchP5(context: BenchContext): Promise<BenchOutcome> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NO_COLOR: '1' };
  const comparison = await compare(
    {
      id: 'P5',
      title: '`pycage --help` vs `node -e 0`',
      a: {
        label: '`pycage --help` (node dist/cli/main.js --help)',
        run: async () => {
          const result = await runProcess(process.execPath, [cliPath, '--help'], { env });
          if (result.exitCode !== 0 || !result.stdout.includes('pycage')) throw new Error(`pycage --help failed: ${result.stderr}`);
        },
      },
      b: { label: '`node -e 0`', run: () => runChecked(process.execPath, ['-e', '0'], { env }) },
      rounds: roundsFor(context, 30),
      warmup: 3,
      target: 2.0,
      command: 'npm run bench -- P5',
    },
    context.log,
  );

  const root = fileURLToPath(new URL('..', import.meta.url));
  const modules = staticImports(cliPath);
  const local = modules.filter((module) => module.file.startsWith('/'));
  const external = modules.filter((module) => !module.file.startsWith('/')).map((module) => module.file);
  const importSamples = 10;
  const importTime = await importMs(path.join(root, 'dist/cli/index.js'), { env, samples: importSamples });
  const details = [
    [
      `P5 breakdown: --help loads ${local.length} of pycage's files (${(local.reduce((sum, module) => sum + module.bytes, 0) / 1024).toFixed(1)} KiB) by static import,`,
      `    and these packages: ${external.join(', ') || 'none'};`,
      `    importing dist/cli/index.js in a fresh process takes ${formatMs(importTime)} (median of ${importSamples}).`,
      `    files: ${local.map((module) => path.relative(root, module.file)).join(', ')}`,
    ].join('\n'),
  ];
  return { comparisons: [comparison], details };
}
