/**
 * Reads the error out of what Python printed on stderr, so a caller (and the agent loop, which sends it
 * back to the model) gets `{ name, message, traceback }` instead of a wall of text. Handles the shapes
 * CPython prints: the last `Traceback (most recent call last):` block, chained exceptions (kept whole in
 * `traceback`, named after the last one), dotted exception names, and the header-less SyntaxError form.
 */
import type { PythonError } from './types.js';

const tracebackHeader = /^(?:\s*\|\s*|\s*\+\s*)?(?:Exception Group )?Traceback \(most recent call last\):\s*$/;
const chainSeparators = [
  'During handling of the above exception, another exception occurred:',
  'The above exception was the direct cause of the following exception:',
];
/** `ValueError: bad`, `requests.exceptions.ConnectionError: ...`, `KeyboardInterrupt` alone. */
const exceptionLine = /^([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)(?::(?: (.*))?)?$/;
const syntaxErrorNames = /^(?:SyntaxError|IndentationError|TabError)\b/;

export function parsePythonError(stderr: string): PythonError | undefined {
  const lines = stderr.replace(/\r\n/g, '\n').split('\n');
  const last = lastHeaderBefore(lines, lines.length);
  if (last === -1) return parseSyntaxError(lines);

  const found = findExceptionLine(lines, last + 1);
  if (found === undefined) return undefined;
  const { index: nameIndex, name, message: firstMessageLine } = found;
  const messageEnd = messageEndIndex(lines, nameIndex + 1);
  const message = [firstMessageLine, ...lines.slice(nameIndex + 1, messageEnd)].join('\n').trimEnd();
  const start = chainStart(lines, last);
  const traceback = lines.slice(start, messageEnd).join('\n').trimEnd();
  return { name, message, traceback };
}

/** The index of the last `Traceback ...` header line before `end`, or -1 when there is none. */
function lastHeaderBefore(lines: string[], end: number): number {
  for (let index = end - 1; index >= 0; index -= 1) {
    if (tracebackHeader.test(lines[index]!)) return index;
  }
  return -1;
}

/** The first line after the frames that is not indented: the exception itself. */
function findExceptionLine(lines: string[], from: number): { index: number; name: string; message: string } | undefined {
  for (let index = from; index < lines.length; index += 1) {
    const line = lines[index]!.replace(/^\s*\|\s?/, '');
    if (line === '' || /^\s/.test(line)) continue;
    const match = exceptionLine.exec(line);
    if (match === null) return undefined;
    return { index, name: match[1]!, message: match[2] ?? '' };
  }
  return undefined;
}

/** A message runs to the end, or to the next traceback block that some later output started. */
function messageEndIndex(lines: string[], from: number): number {
  let end = from;
  while (end < lines.length && !tracebackHeader.test(lines[end]!) && !chainSeparators.includes(lines[end]!.trim())) end += 1;
  while (end > from && lines[end - 1]!.trim() === '') end -= 1;
  return end;
}

/** Walks back over `During handling...` / `The above exception...` links to the first block of the chain. */
function chainStart(lines: string[], headerIndex: number): number {
  let start = headerIndex;
  for (;;) {
    let index = start - 1;
    while (index >= 0 && lines[index]!.trim() === '') index -= 1;
    if (index < 0 || !chainSeparators.includes(lines[index]!.trim())) return start;
    const previous = lastHeaderBefore(lines, index);
    if (previous === -1) return start;
    start = previous;
  }
}

/**
 * A syntax error in the script itself is printed with no Traceback header:
 *   File "/work/script.py", line 1 / source line / caret line / `SyntaxError: ...`.
 */
function parseSyntaxError(lines: string[]): PythonError | undefined {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end -= 1;
  for (let index = end - 1; index >= 0; index -= 1) {
    const line = lines[index]!;
    if (!syntaxErrorNames.test(line)) continue;
    const match = exceptionLine.exec(line);
    if (match === null) return undefined;
    let start = index;
    while (start > 0 && /^\s/.test(lines[start - 1]!)) start -= 1;
    if (!/^\s+File "/.test(lines[start] ?? '')) return undefined;
    const message = [match[2] ?? '', ...lines.slice(index + 1, end)].join('\n').trimEnd();
    return { name: match[1]!, message, traceback: lines.slice(start, end).join('\n') };
  }
  return undefined;
}
