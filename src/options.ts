/**
 * Checks the keys of an options object a caller passed to a public function. TypeScript catches a
 * misspelled key only in a literal and only for TypeScript callers; at run time an unknown key would
 * be ignored, and a typo such as `networkMode: 'none'` would silently leave the sandbox's default in
 * place. So every public entrance checks its options here, and an unknown key is a UsageError naming
 * it and the nearest valid key.
 *
 * The valid keys of each function are written as `{ key: true, ... } satisfies OptionKeys<Options>`, so
 * the compiler fails when a field is added to the interface and not to the list, or the other way round.
 */
import { UsageError } from './errors.js';

/** Every key of `Options`, each exactly once: `satisfies OptionKeys<RunOptions>` keeps a list in step. */
export type OptionKeys<Options> = { readonly [Key in keyof Required<Options>]: true };

export interface CheckOptionKeysSettings {
  /**
   * Whether the options object may be left out (`undefined`). A function whose options carry what it
   * needs (`runAgent({ request, provider, runtime })`) sets this to false.
   * @default true
   */
  optional?: boolean;
  /**
   * Keys that belong to another function, and which one (`findLinks` -> `createRuntime`), so the
   * message can point there. @default none
   */
  elsewhere?: Readonly<Record<string, string>>;
}

/**
 * Throws a UsageError unless `options` is undefined (when optional) or a plain object whose own keys
 * are all in `validKeys`. `functionName` is how the caller knows the function (`createRuntime`,
 * `runAgent runOptions`).
 */
export function checkOptionKeys(
  functionName: string,
  options: unknown,
  validKeys: Readonly<Record<string, true>>,
  settings: CheckOptionKeysSettings = {},
): void {
  if (options === undefined && (settings.optional ?? true)) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError(`The options of ${functionName} must be an object, not ${describeValue(options)}.`);
  }
  const valid = Object.keys(validKeys);
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(validKeys, key)) continue;
    const nearest = nearestKey(key, valid);
    const owner = settings.elsewhere?.[key];
    const belongs = owner === undefined ? '' : ` ("${key}" is an option of ${owner})`;
    const suggestion = nearest === undefined ? '' : `; did you mean "${nearest}"?`;
    throw new UsageError(`Unknown option "${key}" for ${functionName}${belongs}${suggestion}`, {
      hint: `Options of ${functionName}: ${valid.join(', ')}.`,
    });
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * The valid key closest to `key`: by edit distance (with swapped neighbours as one edit), ignoring
 * case, where a key that starts with a valid one (`networkMode`, `timeout` for `timeoutMs`) counts as
 * one edit away, since a unit or a suffix is the usual slip.
 */
export function nearestKey(key: string, validKeys: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const candidate of validKeys) {
    const lower = candidate.toLowerCase();
    let distance = editDistance(wanted, lower);
    if (distance > 0 && (wanted.startsWith(lower) || lower.startsWith(wanted))) distance = Math.min(distance, 1);
    if (best === undefined || distance < best.distance) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(left: string, right: string): number {
  const rows = left.length + 1;
  const columns = right.length + 1;
  const table: number[][] = Array.from({ length: rows }, (_, row) => Array.from({ length: columns }, (_, column) => (row === 0 ? column : column === 0 ? row : 0)));
  for (let row = 1; row < rows; row += 1) {
    for (let column = 1; column < columns; column += 1) {
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let value = Math.min(table[row - 1]![column]! + 1, table[row]![column - 1]! + 1, table[row - 1]![column - 1]! + cost);
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1]) {
        value = Math.min(value, table[row - 2]![column - 2]! + 1);
      }
      table[row]![column] = value;
    }
  }
  return table[rows - 1]![columns - 1]!;
}
