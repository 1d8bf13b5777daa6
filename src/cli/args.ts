/**
 * Command-line parsing for every command, with node:util's parseArgs so that `pycage --help` loads
 * nothing else. Values are checked here and turned into numbers with units; a bad flag is a
 * UsageError (exit 2) that says which flag and what it takes.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { maskUrl } from '../index-url.js';

export type CommandName = 'request' | 'session' | 'run' | 'requirements' | 'extract' | 'prune' | 'doctor' | 'help' | 'version';

const subcommands = new Set<CommandName>(['run', 'requirements', 'extract', 'prune', 'doctor', 'help', 'version']);

export interface CliFlags {
  yes: boolean;
  json: boolean;
  verbose: boolean;
  help: boolean;
  maxAttempts?: number;
  provider?: 'groq' | 'openai';
  model?: string;
  instruction?: string;
  timeoutMs?: number;
  memoryBytes?: number;
  cpus?: number;
  network?: 'public' | 'none' | 'open';
  /** --allow-host, repeatable: the only hosts the script may reach. */
  allowHosts: string[];
  /** --file, repeatable: files or folders copied into the script's working directory. */
  files: string[];
  noFilePreview: boolean;
  noOutput: boolean;
  /** --allow-package, repeatable (`*` for any). */
  allowPackages: string[];
  minReleaseAgeDays?: number;
  allowSdist: boolean;
  allowUrlRequirements: boolean;
  /** `pycage requirements --explain`: each requirement's origin beside it. */
  explain: boolean;
  image?: string;
  local: boolean;
  gvisor: boolean;
  requirements?: 'auto' | 'none' | string[];
  indexUrl?: string;
  findLinks?: string;
  noIndex: boolean;
  output?: string;
  python?: string;
}

export interface ParsedCommand {
  command: CommandName;
  /** Positional arguments after the command name (for `request`: the request words). */
  positionals: string[];
  /** Everything after a bare `--`: arguments for the script of `pycage run`. */
  scriptArgs: string[];
  flags: CliFlags;
}

const options = {
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  'max-attempts': { type: 'string' },
  provider: { type: 'string' },
  model: { type: 'string', short: 'm' },
  instruction: { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  network: { type: 'string' },
  image: { type: 'string' },
  local: { type: 'boolean' },
  gvisor: { type: 'boolean' },
  requirements: { type: 'string' },
  'index-url': { type: 'string' },
  'find-links': { type: 'string' },
  'no-index': { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  python: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  file: { type: 'string', multiple: true, short: 'f' },
  'no-file-preview': { type: 'boolean' },
  'no-output': { type: 'boolean' },
  'allow-package': { type: 'string', multiple: true },
  'min-release-age': { type: 'string' },
  'allow-sdist': { type: 'boolean' },
  'allow-url-requirements': { type: 'boolean' },
  explain: { type: 'boolean' },
} as const;

export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const separator = argv.indexOf('--');
  const ownArgs = separator === -1 ? [...argv] : argv.slice(0, separator);
  const scriptArgs = separator === -1 ? [] : argv.slice(separator + 1);

  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: ownArgs, options, allowPositionals: true, strict: true });
  } catch (error) {
    const suggestion = nearestFlag(error);
    throw new UsageError(`${cleanParseMessage(error)}${suggestion === undefined ? '' : ` Did you mean ${suggestion}?`}`, { hint: 'See `pycage --help`.' });
  }
  const values = parsed.values;
  const positionals = [...parsed.positionals];

  let command: CommandName;
  if (values.version === true) command = 'version';
  else if (positionals.length === 0) command = values.help === true ? 'help' : 'session';
  else if (subcommands.has(positionals[0] as CommandName)) command = positionals.shift() as CommandName;
  else command = 'request';

  const flags: CliFlags = {
    yes: values.yes === true,
    json: values.json === true,
    verbose: values.verbose === true,
    help: values.help === true,
    local: values.local === true,
    gvisor: values.gvisor === true,
    noIndex: values['no-index'] === true,
    allowHosts: (values['allow-host'] ?? []).map((host) => nonEmpty('--allow-host', host)),
    files: (values.file ?? []).map((file) => nonEmpty('--file', file)),
    noFilePreview: values['no-file-preview'] === true,
    noOutput: values['no-output'] === true,
    allowPackages: (values['allow-package'] ?? []).map((name) => nonEmpty('--allow-package', name)),
    allowSdist: values['allow-sdist'] === true,
    allowUrlRequirements: values['allow-url-requirements'] === true,
    explain: values.explain === true,
  };
  if (values['max-attempts'] !== undefined) flags.maxAttempts = parseInteger('--max-attempts', values['max-attempts'], 1, 20);
  if (values.provider !== undefined) flags.provider = parseChoice('--provider', values.provider, ['groq', 'openai'] as const);
  if (values.model !== undefined) flags.model = nonEmpty('--model', values.model);
  if (values.instruction !== undefined) flags.instruction = nonEmpty('--instruction', values.instruction);
  if (values.timeout !== undefined) flags.timeoutMs = parseSeconds('--timeout', values.timeout);
  if (values.memory !== undefined) flags.memoryBytes = parseSize('--memory', values.memory);
  if (values.cpus !== undefined) flags.cpus = parsePositiveNumber('--cpus', values.cpus);
  if (values.network !== undefined) flags.network = parseChoice('--network', values.network, ['public', 'none', 'open'] as const);
  if (values.image !== undefined) flags.image = nonEmpty('--image', values.image);
  if (values.requirements !== undefined) flags.requirements = parseRequirements(values.requirements);
  if (values['index-url'] !== undefined) flags.indexUrl = parseUrl('--index-url', values['index-url']);
  if (values['find-links'] !== undefined) flags.findLinks = nonEmpty('--find-links', values['find-links']);
  if (values.output !== undefined) flags.output = nonEmpty('--output', values.output);
  if (values.python !== undefined) flags.python = parsePythonVersion(values.python);
  if (values['min-release-age'] !== undefined) flags.minReleaseAgeDays = parseNonNegative('--min-release-age', values['min-release-age']);
  if (flags.output !== undefined && flags.noOutput) throw new UsageError('--output and --no-output do not go together.');
  if (flags.allowHosts.length > 0 && flags.network !== undefined && flags.network !== 'public') {
    throw new UsageError(`--allow-host works with --network public (the default), not --network ${flags.network}.`);
  }
  if (flags.local && flags.gvisor) throw new UsageError('--local and --gvisor do not go together: --local runs without Docker.');

  if (scriptArgs.length > 0 && command !== 'run') {
    throw new UsageError('Arguments after `--` are only for `pycage run <file> -- <args>`.');
  }
  return { command, positionals, scriptArgs, flags };
}

function cleanParseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs explains how to pass a value that starts with a dash; pycage users rarely need it.
  return message.replace(/\. To specify a positional argument.*$/s, '.').replace(/^Unknown option/, 'Unknown flag');
}

/** Whether the command line asked for --json, read without parsing it: a bad flag still gets JSON. */
export function wantsJson(argv: readonly string[]): boolean {
  const separator = argv.indexOf('--');
  return (separator === -1 ? argv : argv.slice(0, separator)).includes('--json');
}

/** The known flag nearest to an unknown one (`--timout` -> `--timeout`), when one is close enough. */
function nearestFlag(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (unknown === undefined) return undefined;
  const given = unknown.replace(/^-+/, '').split('=')[0] ?? '';
  let best: { flag: string; distance: number } | undefined;
  for (const flag of Object.keys(options)) {
    const distance = editDistance(given, flag);
    if (best === undefined || distance < best.distance) best = { flag, distance };
  }
  // Close: a typo or two, not a different word.
  return best !== undefined && best.distance <= Math.max(1, Math.floor(best.flag.length / 3)) ? `--${best.flag}` : undefined;
}

function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

function nonEmpty(flag: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`${flag} needs a value.`);
  return value;
}

function parseChoice<const Choice extends string>(flag: string, value: string, choices: readonly Choice[]): Choice {
  if ((choices as readonly string[]).includes(value)) return value as Choice;
  throw new UsageError(`${flag} takes ${choices.join(' or ')}, not "${value}".`);
}

function parseInteger(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, not "${value}".`);
  }
  return number;
}

function parseNonNegative(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`${flag} takes a number of days, 0 or more, not "${value}".`);
  return number;
}

function parsePositiveNumber(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} takes a number above 0, not "${value}".`);
  return number;
}

const timeUnits: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/**
 * Seconds, as in the design (`--timeout SEC`); fractions allowed, and `s`, `m` or `h` after the
 * number (`90s`, `1m`, `1.5h`), as `--memory` takes `1g`. Returns milliseconds.
 */
export function parseSeconds(flag: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(value);
  const unit = timeUnits[match?.[2]?.toLowerCase() ?? 'x'];
  const seconds = match === null || unit === undefined ? Number.NaN : Number(match[1]) * unit;
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`${flag} takes seconds above 0 (30, 2.5), or a time with s, m or h (90s, 1m), not "${value}".`);
  return Math.round(seconds * 1000);
}

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30 };

/** Docker-style sizes: `512m`, `1g`, `256MiB`, or bytes. Returns bytes. */
export function parseSize(flag: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = sizeUnits[match?.[2]?.toLowerCase() ?? 'x'];
  if (match === null || unit === undefined) throw new UsageError(`${flag} takes a size such as 512m or 1g, not "${value}".`);
  const bytes = Math.round(Number(match[1]) * unit);
  // Docker refuses less than 6 MiB for a container; say so here rather than as a daemon error.
  if (bytes < 6 * 2 ** 20) throw new UsageError(`${flag} must be at least 6m (Docker's minimum), not "${value}".`);
  return bytes;
}

function parseRequirements(value: string): 'auto' | 'none' | string[] {
  if (value === 'auto' || value === 'none') return value;
  const list = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (list.length === 0) throw new UsageError('--requirements takes auto, none, or a comma-separated list such as "requests==2.32.3,rich".');
  return list;
}

function parseUrl(flag: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return value;
  } catch {
    throw new UsageError(`${flag} takes an http(s) URL, not "${maskUrl(value)}".`);
  }
}

function parsePythonVersion(value: string): string {
  if (!/^3\.\d{1,2}$/.test(value)) throw new UsageError(`--python takes a version such as 3.12, not "${value}".`);
  return value;
}
