/**
 * What the agent says to the model after the first answer: a retry carrying the failed code and the
 * tail of its error, a nudge when an answer had no code, and the context a follow-up request needs.
 * The wording lives in prompts/*.md (read at run time, like the instruction); this file fills them in.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../runtime/index.js';
import { describeIndexFacts, type RefusedPackage } from '../requirements/index.js';

type PromptName = 'retry' | 'no-code' | 'follow-up' | 'unknown-packages';

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
