/**
 * A `ModuleNotFoundError` for a package the inference missed (a dynamic import, an unusual name) costs
 * a model call for nothing: the agent first adds the package and runs the same code again.
 */
import type { RunResult } from '../runtime/index.js';

/** The module a failed run could not import, e.g. `yaml` or `google.cloud.storage`. */
export function missingModule(result: RunResult): string | undefined {
  const error = result.error;
  if (error === undefined) return undefined;
  if (error.name !== 'ModuleNotFoundError' && error.name !== 'ImportError') return undefined;
  const match = /No module named '([\w.]+)'/.exec(error.message);
  return match?.[1];
}
