/**
 * Picks the Python to run out of a model's answer. Rules, in order; the first that finds code wins:
 *
 * 1. `python-block`: the one block tagged Python (```python, ```py, ```python3, ~~~python...).
 * 2. `largest-python-block`: several are tagged Python; the one with the most lines of code wins. A
 *    tie goes to a complete program (it does something and needs nothing from the other blocks) over
 *    a usage fragment, then to the later block (a model that corrects itself puts the correction last).
 * 2b. `joined-python-blocks`: the program is split over several Python blocks, as real answers often
 *    split it (definitions, then the calls): the chosen block uses names that only other Python blocks
 *    define, or it only defines things that a later block uses. Those blocks are joined, in the
 *    answer's order. A complete program is never joined with a usage snippet: that would run twice.
 * 3. `untagged-block`: no block is tagged Python, but an untagged block reads as a Python program
 *    (mostly Python statements, and an import, def, class or print). Same tie-break as rule 2.
 * 4. `bare-code`: the answer has no fence at all and every line of it reads as Python, as small local
 *    models often answer when told to give only code. Any line of prose refuses it, so an explanation
 *    is never run as a script.
 *
 * Never chosen: blocks tagged with another language (bash, json, text...), blocks that only install
 * packages (even when tagged python), JSON, and anything inside a leading `<think>` section.
 * Otherwise `NoCodeBlockError`, carrying the answer.
 */
import { countCodeLines, isInstallOnly, isJson, isPythonLanguage, lookAtPython } from './classify.js';
import { NoCodeBlockError } from './errors.js';
import { findFencedBlocks, type FencedBlock } from './fences.js';
import { readBlockNames, type BlockNames } from './names.js';
import { stripThinking } from './strip-thinking.js';

export type ExtractRule = 'python-block' | 'largest-python-block' | 'joined-python-blocks' | 'untagged-block' | 'bare-code';

export interface ExtractedCode {
  /** The program, dedented, with one trailing newline. */
  code: string;
  /** Which rule chose it (see the top of this file). */
  rule: ExtractRule;
  /** One sentence saying why this code and not the rest of the answer, for logs and `--verbose`. */
  reason: string;
  /** The block's language tag as written (`python`, `py`, `python3`...); `undefined` when untagged or bare. */
  language: string | undefined;
  /** How many fenced blocks the answer had, Python or not (a Markdown block holding fences counts as the blocks inside it). */
  blocks: number;
}

/** Returns the Python to run from a model's answer; throws `NoCodeBlockError` when there is none. */
export function extractCode(answer: string): ExtractedCode {
  const text = stripThinking(answer.replace(/\r\n?/g, '\n'));
  const blocks = findFencedBlocks(text).map(cutTrailingProse);

  const tagged = blocks.filter((block) => isPythonLanguage(block.language));
  const installers = tagged.filter((block) => isInstallOnly(block.content));
  const pythonBlocks = tagged.filter((block) => !installers.includes(block) && countCodeLines(block.content) > 0);
  if (pythonBlocks.length > 0) {
    const rule = pythonBlocks.length === 1 ? 'python-block' : 'largest-python-block';
    return choose(pythonBlocks, blocks, rule, installers.length);
  }

  const untagged = blocks.filter((block) => block.language === undefined && readsAsProgram(block.content, 0.8));
  if (untagged.length > 0) return choose(untagged, blocks, 'untagged-block', installers.length);

  if (blocks.length === 0 && readsAsProgram(text, 1)) {
    return {
      code: tidy(text),
      rule: 'bare-code',
      reason: 'the answer has no code fence, and every line of it reads as Python',
      language: undefined,
      blocks: 0,
    };
  }

  throw new NoCodeBlockError(noCodeMessage(blocks, installers.length), { answer, blocks: blocks.length });
}

/** `share` is the least part of the top-level lines that must read as Python statements. */
function readsAsProgram(code: string, share: number): boolean {
  if (isJson(code) || isInstallOnly(code)) return false;
  const look = lookAtPython(code);
  const lines = look.pythonLines + look.otherLines;
  return look.hasProgramSignal && look.pythonLines > 0 && look.pythonLines >= share * lines;
}

function choose(candidates: FencedBlock[], blocks: FencedBlock[], rule: ExtractRule, installers: number): ExtractedCode {
  const sizes = candidates.map((block) => countCodeLines(block.content));
  const largest = Math.max(...sizes);
  const names = candidates.map((block) => readBlockNames(block.content));
  const tied = candidates.flatMap((_, index) => (sizes[index] === largest ? [index] : []));
  // A tie goes to a complete program over a usage fragment, then to the later block.
  const complete = tied.filter((index) => isComplete(index, names));
  const chosenIndex = (complete.length > 0 && complete.length < tied.length ? complete : tied).at(-1) as number;
  const chosen = candidates[chosenIndex] as FencedBlock;
  const position = `block ${blocks.indexOf(chosen) + 1} of ${blocks.length} (line ${chosen.line})`;

  const joined = rule === 'largest-python-block' ? blocksToJoin(chosenIndex, names) : [chosenIndex];
  if (joined.length > 1) {
    const parts = joined.map((index) => candidates[index] as FencedBlock);
    const numbers = parts.map((block) => blocks.indexOf(block) + 1);
    return {
      code: parts.map((block) => tidy(block.content)).join('\n'),
      rule: 'joined-python-blocks',
      reason: `blocks ${listing(numbers)} of ${blocks.length} joined in order: one program split over ${parts.length} python blocks (${describeSplit(chosenIndex, names)})`,
      language: chosen.language,
      blocks: blocks.length,
    };
  }

  let reason: string;
  if (rule === 'python-block') {
    reason = `${position}: the only block tagged ${chosen.language}${installers > 0 ? ' that is a program' : ''}`;
  } else if (rule === 'largest-python-block') {
    let tie = '';
    if (tied.length > 1) tie = complete.length > 0 && complete.length < tied.length ? '; a tie goes to the complete program, not a usage fragment' : '; a tie goes to the later block';
    reason = `${position}: the largest of ${candidates.length} python blocks (${listing(sizes)} lines of code)${tie}`;
  } else {
    const which = candidates.length === 1 ? 'an untagged block' : `the largest of ${candidates.length} untagged blocks`;
    reason = `${position}: no block is tagged python, and ${which} reads as a Python program`;
  }
  if (!chosen.closed) reason += ', left unclosed at the end of the answer';
  if (chosen.container !== undefined) reason += `, found inside ${chosen.container === '' ? 'an untagged' : `a ${chosen.container}`} block`;
  if (installers > 0) reason += `; skipped ${plural(installers, 'python-tagged block')} that only install${installers === 1 ? 's' : ''} packages`;
  const others = describeBlocks(blocks.filter((block) => !candidates.includes(block) && !isPythonLanguage(block.language)));
  if (others !== '') reason += `; ignored ${others}`;

  return { code: tidy(chosen.content), rule, reason, language: chosen.language, blocks: blocks.length };
}

/** Names a block uses that it does not define but another block does. */
function borrowed(index: number, names: readonly BlockNames[]): Set<string> {
  const own = names[index] as BlockNames;
  const result = new Set<string>();
  for (const name of own.used) {
    if (own.defined.has(name)) continue;
    if (names.some((other, otherIndex) => otherIndex !== index && other.defined.has(name))) result.add(name);
  }
  return result;
}

/** Does something when run, and needs nothing from the other blocks. */
function isComplete(index: number, names: readonly BlockNames[]): boolean {
  return (names[index] as BlockNames).acts && borrowed(index, names).size === 0;
}

/**
 * The blocks that make one program with the chosen one, in the answer's order: the blocks defining
 * what it borrows (and what those borrow), and, when it only defines things, the later blocks that
 * use them. Just the chosen block when it stands alone.
 */
function blocksToJoin(chosenIndex: number, names: readonly BlockNames[]): number[] {
  const included = new Set<number>([chosenIndex]);
  const chosen = names[chosenIndex] as BlockNames;
  if (!chosen.acts) {
    names.forEach((block, index) => {
      if (index > chosenIndex && block.acts && [...block.used].some((name) => chosen.defined.has(name) && !block.defined.has(name))) included.add(index);
    });
  }
  // What the included blocks borrow, from the last block before them that defines it.
  const pending = [...included];
  while (pending.length > 0) {
    const index = pending.pop() as number;
    for (const name of borrowed(index, names)) {
      const definers = names.flatMap((block, otherIndex) => (otherIndex !== index && block.defined.has(name) ? [otherIndex] : []));
      const source = definers.filter((otherIndex) => otherIndex < index).at(-1) ?? definers[0];
      if (source !== undefined && !included.has(source)) {
        included.add(source);
        pending.push(source);
      }
    }
  }
  return [...included].sort((left, right) => left - right);
}

function describeSplit(chosenIndex: number, names: readonly BlockNames[]): string {
  const needs = [...borrowed(chosenIndex, names)].slice(0, 3);
  if (needs.length > 0) return `the largest uses ${needs.join(', ')}, defined only in another block`;
  return 'the largest only defines what a later block uses';
}

/**
 * A block left open at the end of the answer runs to the end of the text, and models often finish
 * with a sentence of explanation: what follows the last blank line, when it does not read as Python
 * at all, is prose and is cut.
 */
function cutTrailingProse(block: FencedBlock): FencedBlock {
  if (block.closed) return block;
  const lines = block.content.split('\n');
  for (let index = 1; index < lines.length; index += 1) {
    if ((lines[index - 1] ?? '').trim() !== '' || (lines[index] ?? '').trim() === '' || /^\s/.test(lines[index] ?? '')) continue;
    const rest = lines.slice(index).join('\n');
    const look = lookAtPython(rest);
    if (look.pythonLines === 0 && look.otherLines > 0) return { ...block, content: lines.slice(0, index).join('\n') };
  }
  return block;
}

function noCodeMessage(blocks: FencedBlock[], installers: number): string {
  if (blocks.length === 0) return "The model's answer has no code block.";
  const found = describeBlocks(blocks);
  const installNote = installers > 0 ? ' (a python-tagged block that only installs packages is not a program)' : '';
  return `The model's answer has no Python code block: it has ${found}${installNote}.`;
}

/** "1 bash block, 2 json blocks and 1 untagged block" */
function describeBlocks(blocks: FencedBlock[]): string {
  const counts = new Map<string, number>();
  for (const block of blocks) {
    const name = block.language ?? 'untagged';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const parts = [...counts].map(([name, count]) => plural(count, `${name} block`));
  return listing(parts);
}

/** "a", "a and b", "a, b and c"; '' for none. */
function listing(items: ReadonlyArray<string | number>): string {
  return items.length <= 1 ? String(items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Leading and trailing blank lines go, and so does indentation common to every line: a block indented
 * under a list item would otherwise fail with IndentationError, and Python never starts indented.
 */
function tidy(code: string): string {
  const lines = code.split('\n');
  const isBlank = (line: string | undefined): boolean => line !== undefined && line.trim() === '';
  while (isBlank(lines[0])) lines.shift();
  while (isBlank(lines.at(-1))) lines.pop();
  const indents = lines.filter((line) => !isBlank(line)).map((line) => /^[ \t]*/.exec(line)?.[0] ?? '');
  let common = indents[0] ?? '';
  for (const indent of indents) {
    while (!indent.startsWith(common)) common = common.slice(0, -1);
  }
  return `${lines.map((line) => (isBlank(line) ? '' : line.slice(common.length))).join('\n')}\n`;
}
