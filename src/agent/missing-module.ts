/**
 * Failures the model cannot fix, told apart from those it can. A `ModuleNotFoundError` for a package
 * the inference missed (a dynamic import, an unusual name) costs a model call for nothing: the agent
 * first adds the package and runs the same code again. An install that failed because the package
 * index cannot be reached is no fault of the code at all: asking the model again would only repeat it.
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

// What pip and uv print when the index does not answer (DNS, refused, unreachable, timed out).
const unreachableIndex =
  /Name or service not known|Temporary failure in name resolution|Failed to establish a new connection|Connection refused|Network is unreachable|No route to host|Read timed out|ConnectTimeout|dns error|error sending request|Failed to fetch|pycage could not (?:connect to|resolve) .* \(through the egress proxy\)/i;

/** True when the run failed in the install, because the package index could not be reached. */
export function indexUnreachable(result: RunResult): boolean {
  return result.error?.name === 'InstallError' && unreachableIndex.test(result.error.traceback || result.stderr);
}
