/**
 * What the agent says to the model after the first answer: a retry carrying the failed code and the
 * tail of its error, a nudge when an answer had no code, and the context a follow-up request needs.
 * The wording lives in prompts/*.md (read at run time, like the instruction); this file fills them in.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { blockedConnections, type RunResult } from '../runtime/index.js';
import { describeIndexFacts, type RefusedPackage } from '../requirements/index.js';

type PromptName = 'retry' | 'no-code' | 'follow-up' | 'unknown-packages' | 'context' | 'regenerate';

/** prompts/ sits two levels above this file both in src/agent/ and in dist/agent/. */
const promptsDirectory = new URL('../../prompts/', import.meta.url);
const templates = new Map<PromptName, Promise<string>>();

function loadPrompt(name: PromptName): Promise<string> {
  let template = templates.get(name);
  if (template === undefined) {
    template = readFile(fileURLToPath(new URL(`${name}.md`, promptsDirectory)), 'utf8');
    templates.set(name, template);
    // A failed read must not be cached: the next call tries again.
    template.catch(() => templates.delete(name));
  }
  return template;
}

/** Replaces `{{name}}` placeholders; unknown names are left as they are so a typo shows. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole).trimEnd();
}

/** Enough of an error for the model to see the cause; tracebacks put it at the end. */
const errorTailLines = 40;
const errorTailChars = 4000;
const outputTailLines = 15;
const followUpOutputChars = 3000;

/** The last `maxLines` lines and at most `maxChars` characters of `text`, marked when cut. */
export function tail(text: string, maxLines: number, maxChars: number): string {
  const trimmed = text.replace(/\s+$/, '');
  const lines = trimmed.split('\n');
  let kept = lines.length > maxLines ? lines.slice(-maxLines).join('\n') : trimmed;
  if (kept.length > maxChars) kept = kept.slice(-maxChars);
  return kept.length < trimmed.length ? `[... earlier output cut ...]\n${kept}` : kept;
}

/** Plain words on why a run failed, followed by the tail of what it printed. */
export function describeFailure(result: RunResult, limits: { timeoutMs?: number; memoryBytes?: number } = {}): string {
  const parts: string[] = [];
  if (result.timedOut) {
    const seconds = limits.timeoutMs === undefined ? '' : ` ${Math.round(limits.timeoutMs / 1000)} s`;
    parts.push(`It did not finish within the time limit${seconds} and was stopped. Make it finish sooner (no endless loops, no waiting for input).`);
  } else if (result.oomKilled) {
    const mebibytes = limits.memoryBytes === undefined ? '' : ` of ${Math.round(limits.memoryBytes / 2 ** 20)} MiB`;
    parts.push(`It was killed for using more than the memory limit${mebibytes}. Use less memory.`);
  } else if (result.error?.name === 'InstallError') {
    parts.push(`Its packages could not be installed (${result.requirements.join(', ') || 'none'}). Use packages that exist, or only the standard library.`);
  } else {
    parts.push(`It exited with status ${result.exitCode}.`);
  }
  const blocked = blockedConnections(result);
  if (blocked.length > 0) {
    const listed = blocked.slice(0, 10).map((entry) => `${entry.host}:${entry.port} (${entry.reason})`);
    parts.push(
      `The sandbox's network refused these connections: ${listed.join(', ')}${blocked.length > 10 ? `, and ${blocked.length - 10} more` : ''}. Do not try them again; find another way, or raise an exception that says the request needs them.`,
    );
  }
  const errorText = result.error?.traceback || result.stderr;
  if (errorText.trim() !== '') {
    parts.push(`Error output (tail):\n\`\`\`\n${tail(errorText, errorTailLines, errorTailChars)}\n\`\`\``);
  }
  if (result.stdout.trim() !== '') {
    parts.push(`Standard output (tail):\n\`\`\`\n${tail(result.stdout, outputTailLines, errorTailChars)}\n\`\`\``);
  }
  return parts.join('\n\n');
}

export async function retryMessage(code: string, failure: string): Promise<string> {
  return fillTemplate(await loadPrompt('retry'), { code: code.replace(/\s+$/, ''), failure });
}

export async function noCodeMessage(): Promise<string> {
  return fillTemplate(await loadPrompt('no-code'), {});
}

/** The user message of a follow-up: what the previous program printed, then the new request. */
export async function followUpMessage(previous: RunResult, request: string): Promise<string> {
  const printed = tail(previous.stdout, 60, followUpOutputChars);
  const output = printed === '' ? ' It printed nothing.' : ` Its output was:\n\n\`\`\`\n${printed}\n\`\`\``;
  return fillTemplate(await loadPrompt('follow-up'), { exitCode: String(previous.exitCode), output, request });
}

/**
 * The one message that tells the model which of its packages nobody vouches for (and, when the index
 * says so, that one does not exist), asking for another way.
 */
export async function unknownPackagesMessage(code: string, refused: readonly RefusedPackage[]): Promise<string> {
  const packages = refused
    .map((entry) => {
      const imported = entry.module === undefined ? '' : ` (import ${entry.module})`;
      if (entry.reason === 'too-new') return `- ${entry.name}${imported}: every release is too recent to trust yet`;
      if (entry.reason === 'no-wheel') return `- ${entry.name}${imported}: no release can be installed without running its build code`;
      const facts = entry.index === undefined ? 'not a known package' : entry.index.exists ? `not a known package; the package index: ${describeIndexFacts(entry.index)}` : 'does not exist on the package index';
      return `- ${entry.name}${imported}: ${facts}`;
    })
    .join('\n');
  return fillTemplate(await loadPrompt('unknown-packages'), { packages, code: code.replace(/\s+$/, '') });
}

/** How the model's own code is kept in the conversation: one fenced block, as it was asked to answer. */
export function codeAnswer(code: string): string {
  return `\`\`\`python\n${code.replace(/\s+$/, '')}\n\`\`\``;
}

/** What the model is told about where its program runs, beside the request. */
export interface RunContext {
  network: 'public' | 'none' | 'open';
  /** `--allow-host`: with `public`, the only hosts the program may reach. */
  allowHosts?: readonly string[];
  /** The files put in the working directory, by relative path. */
  files?: Readonly<Record<string, string | Uint8Array>>;
  /** Also tell the model the first lines of text files. @default true */
  filePreview?: boolean;
  /** Whether what the program writes under `output/` is kept for the user. */
  outputKept: boolean;
}

const previewFiles = 20;
const previewLines = 5;
const previewLineChars = 200;
const listedFiles = 100;

/** The request, followed by the network, the files and the output folder, as prompts/context.md lays them out. */
export async function requestWithContext(request: string, context: RunContext): Promise<string> {
  return fillTemplate(await loadPrompt('context'), {
    request,
    network: describeNetwork(context),
    files: describeFiles(context.files ?? {}, context.filePreview ?? true),
    output: context.outputKept
      ? 'Files the program writes under `output/` (relative to its working directory) are handed to the user after it ends; write files meant for the user there.'
      : 'Nothing the program writes is kept after it ends (the user asked for no output files): print the results instead.',
  });
}

function describeNetwork(context: RunContext): string {
  switch (context.network) {
    case 'none':
      return 'Network: none. The program cannot reach any host; it must not download anything. If the request cannot be done without the network, raise an exception that says so.';
    case 'open':
      return 'Network: open; the program can reach other hosts directly.';
    case 'public': {
      const hosts = context.allowHosts ?? [];
      const reach =
        hosts.length === 0 || hosts.includes('*')
          ? 'public internet hosts'
          : `only these hosts: ${hosts.join(', ')}`;
      return `Network: ${reach}, over HTTP(S) through a proxy given in the standard HTTP_PROXY / HTTPS_PROXY variables (requests, urllib and httpx use it on their own); private, local and cloud-metadata addresses are refused.`;
    }
  }
}

/** Names, sizes and, for text, the first lines of each file (names only with `preview` false). */
export function describeFiles(files: Readonly<Record<string, string | Uint8Array>>, preview: boolean): string {
  const names = Object.keys(files).sort();
  if (names.length === 0) return 'Files: none were given; do not expect any input file.';
  const lines = ['Files in the working directory, given by the user (open them by these relative paths):'];
  names.slice(0, listedFiles).forEach((name, index) => {
    const content = files[name] ?? '';
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (!preview) {
      lines.push(`  - ${name}`);
      return;
    }
    const head = index < previewFiles ? textHead(bytes) : undefined;
    lines.push(`  - ${name} (${formatSize(bytes.length)}${head === undefined ? (index < previewFiles ? ', binary' : '') : ''})${head === undefined || head === '' ? '' : ', first lines:'}`);
    if (head !== undefined && head !== '') lines.push('    ```', ...head.split('\n').map((line) => `    ${line}`), '    ```');
  });
  if (names.length > listedFiles) lines.push(`  - and ${names.length - listedFiles} more files`);
  return lines.join('\n');
}

/** The first lines of a UTF-8 text file, each cut short; undefined for binary data. */
function textHead(bytes: Uint8Array): string | undefined {
  const start = bytes.subarray(0, 8192);
  if (start.includes(0)) return undefined;
  const text = new TextDecoder('utf-8').decode(start);
  // A replacement character means bytes that are not UTF-8; one at the very end may be a character
  // cut at the 8 KiB boundary, which is still text.
  const body = start.length === bytes.length ? text : text.slice(0, -1);
  if (body.includes('\uFFFD')) return undefined;
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .slice(0, previewLines)
    .map((line) => (line.length > previewLineChars ? `${line.slice(0, previewLineChars)}...` : line))
    .join('\n')
    .trimEnd();
}

function formatSize(bytes: number): string {
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** Asked instead of the identical conversation when the user wants another answer. */
export async function regenerateMessage(): Promise<string> {
  return fillTemplate(await loadPrompt('regenerate'), {});
}
