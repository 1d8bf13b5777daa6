// runCli with in-memory streams: what a script reading stdout gets for a bad command line.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/index.js';

function memoryIo(): { io: CliIo; stdout: () => string; stderr: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const io: CliIo = { stdin: new PassThrough(), stdout: out, stderr: err, env: {}, cwd: process.cwd(), onSignal: () => () => undefined };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

describe('runCli with a bad command line', () => {
  it('prints one JSON error object on stdout with --json (exit 2)', async () => {
    const { io, stdout, stderr } = memoryIo();
    const exitCode = await runCli(['print hi', '--json', '--timout', '5'], io);
    expect(exitCode).toBe(2);
    const json = JSON.parse(stdout());
    expect(json).toMatchObject({ exitCode: 2, error: { name: 'UsageError' } });
    expect(json.error.message).toContain('--timout');
    expect(stderr()).toContain('Did you mean --timeout?');
  });

  it('keeps stdout empty without --json', async () => {
    const { io, stdout, stderr } = memoryIo();
    expect(await runCli(['print hi', '--network', 'host'], io)).toBe(2);
    expect(stdout()).toBe('');
    expect(stderr()).toContain('--network takes public or none or open');
  });
});
