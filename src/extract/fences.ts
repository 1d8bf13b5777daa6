/**
 * Finds the fenced code blocks in a model's Markdown answer, the way CommonMark reads fences but more
 * forgiving, because models are: a fence may be indented any amount (inside a list item), and a block
 * still open when the answer ends counts, running to the end.
 *
 * A fence closes only with the same character and at least as many of them, so a ```` fence can wrap
 * text that itself holds ``` fences. When a block that is not Python holds fences of its own (a
 * ```` markdown block showing a ```python block), its inner blocks are returned in its place.
 */

export interface FencedBlock {
  /** The first word of the info string, lower-cased: `python`, `py`, `bash`... `undefined` when untagged. */
  language: string | undefined;
  /** The lines between the fences, with the opening fence's indentation taken off each. */
  content: string;
  /** False when the answer ended before the closing fence. */
  closed: boolean;
  /** 1-based line of the opening fence in the text given to `findFencedBlocks`. */
  line: number;
  /** The language of the block this one was found inside (`markdown`, or `''` for an untagged one). */
  container?: string;
}

const openingFence = /^([ \t]*)(`{3,}|~{3,})(.*)$/;

/** Blocks whose fenced contents are Markdown rather than code, so inner fences are real blocks. */
const containerLanguages = new Set([undefined, 'markdown', 'md', 'text', 'txt', 'plaintext']);

/** `text` must already have `\n` line endings. */
export function findFencedBlocks(text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const opening = openingFence.exec(lines[index] ?? '');
    const fence = opening?.[2];
    const info = opening?.[3] ?? '';
    // A backtick "fence" whose info string holds a backtick is inline code (```x``` on one line).
    if (opening === null || fence === undefined || (fence.startsWith('`') && info.includes('`'))) {
      index += 1;
      continue;
    }
    const indent = (opening[1] ?? '').length;
    const closing = new RegExp(`^[ \\t]*${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    const contentLines: string[] = [];
    let end = index + 1;
    while (end < lines.length && !closing.test(lines[end] ?? '')) {
      contentLines.push(removeIndent(lines[end] ?? '', indent));
      end += 1;
    }
    const block: FencedBlock = {
      language: languageOf(info),
      content: contentLines.join('\n'),
      closed: end < lines.length,
      line: index + 1,
    };
    blocks.push(...expandContainer(block));
    index = end + 1;
  }
  return blocks;
}

/** `python`, `Python 3`, `{python}`, `python title="x.py"`, `python:main.py`, `main.py` -> a name. */
function languageOf(info: string): string | undefined {
  const word = info.trim().replace(/^[{.]+/, '').split(/[\s,:{}]/)[0]?.toLowerCase() ?? '';
  if (word === '') return undefined;
  if (/^[\w-]+\.py$/.test(word)) return 'python';
  return word.replace(/^language-/, '');
}

function removeIndent(line: string, indent: number): string {
  let removed = 0;
  while (removed < indent && (line[removed] === ' ' || line[removed] === '\t')) removed += 1;
  return line.slice(removed);
}

function expandContainer(block: FencedBlock): FencedBlock[] {
  if (!containerLanguages.has(block.language)) return [block];
  const inner = findFencedBlocks(block.content);
  if (inner.length === 0) return [block];
  return inner.map((innerBlock) => ({
    ...innerBlock,
    line: block.line + innerBlock.line,
    container: innerBlock.container ?? block.language ?? '',
  }));
}
