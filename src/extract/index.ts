/**
 * The extract stage: from a model's answer, the Python to run. `pycage extract` and the agent loop
 * come in here; nothing else in this folder is public.
 */
export { extractCode } from './extract-code.js';
export type { ExtractedCode, ExtractRule } from './extract-code.js';
export { NoCodeBlockError } from './errors.js';
export { stripThinking } from './strip-thinking.js';
