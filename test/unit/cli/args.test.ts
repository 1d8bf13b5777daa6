import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseSeconds, parseSize } from '../../../src/cli/args.js';
import { UsageError } from '../../../src/errors.js';

describe('parseCommandLine', () => {
  it('treats words that are not a command as a request', () => {
    const parsed = parseCommandLine(['fetch the GitHub user synacktraa', '--yes', '--max-attempts', '2']);
    expect(parsed.command).toBe('request');
    expect(parsed.positionals).toEqual(['fetch the GitHub user synacktraa']);
    expect(parsed.flags.yes).toBe(true);
    expect(parsed.flags.maxAttempts).toBe(2);
  });

  it('starts a session with no arguments and shows help with --help', () => {
    expect(parseCommandLine([]).command).toBe('session');
    expect(parseCommandLine(['--help']).command).toBe('help');
    expect(parseCommandLine(['run', 'x.py', '--help']).flags.help).toBe(true);
    expect(parseCommandLine(['-V']).command).toBe('version');
  });

  it('splits script arguments after -- for run', () => {
    const parsed = parseCommandLine(['run', 'script.py', '--timeout', '2.5', '--memory', '256m', '--', '--name', 'x']);
    expect(parsed.command).toBe('run');
    expect(parsed.positionals).toEqual(['script.py']);
    expect(parsed.scriptArgs).toEqual(['--name', 'x']);
    expect(parsed.flags.timeoutMs).toBe(2500);
    expect(parsed.flags.memoryBytes).toBe(256 * 2 ** 20);
  });

  it('reads every run option', () => {
    const parsed = parseCommandLine([
      'run', '-', '--cpus', '1.5', '--network', 'none', '--image', 'python:3.12', '--requirements', 'requests==2.32.3, rich',
      '--index-url', 'http://127.0.0.1:9000/simple', '--find-links', 'wheels', '--no-index', '--output', 'out', '--verbose', '--json',
    ]);
    expect(parsed.flags).toMatchObject({
      cpus: 1.5, network: 'none', image: 'python:3.12', requirements: ['requests==2.32.3', 'rich'],
      indexUrl: 'http://127.0.0.1:9000/simple', findLinks: 'wheels', noIndex: true, output: 'out', verbose: true, json: true,
    });
    expect(parseCommandLine(['run', 'x.py', '--requirements', 'none']).flags.requirements).toBe('none');
  });

  it.each([
    [['--network', 'host', 'x'], /--network takes public or none or open/],
    [['--provider', 'anthropic', 'x'], /--provider takes groq or openai/],
    [['--max-attempts', '0', 'x'], /--max-attempts takes a whole number from 1 to 20/],
    [['--timeout', 'soon', 'x'], /--timeout takes seconds/],
    [['--memory', '1 potato', 'x'], /--memory takes a size/],
    [['--memory', '1m', 'x'], /at least 6m/],
    [['--index-url', 'ftp://x', 'x'], /http\(s\) URL/],
    [['--bogus', 'x'], /Unknown flag '--bogus'\.$/],
    [['--timout', '5', 'x'], /Unknown flag '--timout'\. Did you mean --timeout\?/],
    [['--alow-host', 'example.com', 'x'], /Did you mean --allow-host\?/],
    [['extract', 'a', '--', 'b'], /only for `pycage run/],
    [['--local', '--gvisor', 'x'], /do not go together/],
  ])('refuses %j with a clear usage error', (argv, message) => {
    let caught: unknown;
    try {
      parseCommandLine(argv);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).message).toMatch(message);
    expect((caught as UsageError).exitCode).toBe(2);
  });
});

describe('units', () => {
  it('parses Docker-style sizes and seconds', () => {
    expect(parseSize('--memory', '1g')).toBe(2 ** 30);
    expect(parseSize('--memory', '512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('--memory', '1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseSeconds('--timeout', '30s')).toBe(30_000);
    expect(parseSeconds('--timeout', '0.25')).toBe(250);
    expect(parseSeconds('--timeout', '1m')).toBe(60_000);
    expect(parseSeconds('--timeout', '1.5h')).toBe(5_400_000);
    expect(parseSeconds('--timeout', '90s')).toBe(90_000);
    expect(() => parseSeconds('--timeout', '1d')).toThrow(/--timeout takes seconds/);
    expect(() => parseSeconds('--timeout', '0m')).toThrow(UsageError);
  });
});
