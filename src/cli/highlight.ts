/**
 * Colours Python for display on a terminal: keywords, strings, comments, numbers, decorators and
 * the names a def or class introduces. A single-pass tokenizer is enough for colour (nothing is
 * decided from it), and it keeps the CLI free of a highlighting library.
 */
import type { Colors } from './colors.js';

const keywords = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case'.split(' '),
);
const builtins = new Set('print len range open str int float dict list set tuple isinstance enumerate zip map filter sorted sum min max abs super type Exception ValueError RuntimeError'.split(' '));

// Order matters: strings (with prefixes, triple quotes first) and comments before anything inside them.
const token =
  /(?<comment>#[^\n]*)|(?<string>(?:[rbuf]|rb|br|fr|rf)?(?:"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?))|(?<decorator>^[ \t]*@[\w.]+)|(?<number>\b\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?j?\b|\b0[xob][\da-f_]+\b)|(?<word>\b[A-Za-z_]\w*\b)/gim;

export function highlightPython(code: string, colors: Colors): string {
  if (!colors.enabled) return code;
  let previousWord = '';
  return code.replace(token, (match, ...rest: unknown[]) => {
    const groups = rest.at(-1) as Record<string, string | undefined>;
    if (groups.comment !== undefined) return colors.dim(match);
    if (groups.string !== undefined) return colors.green(match);
    if (groups.decorator !== undefined) return colors.magenta(match);
    if (groups.number !== undefined) return colors.cyan(match);
    const word = match;
    let styled = word;
    if (keywords.has(word)) styled = colors.magenta(word);
    else if (previousWord === 'def' || previousWord === 'class') styled = colors.blue(word);
    else if (builtins.has(word)) styled = colors.cyan(word);
    previousWord = word;
    return styled;
  });
}
