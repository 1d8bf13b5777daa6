/**
 * The system instruction lives in `prompts/instruction.md`, a text file read at run time, so that it
 * can be read, changed and reviewed like prose rather than hidden in a string in the code.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

/**
 * Both `src/generator/instruction.ts` (tests) and `dist/generator/instruction.js` (the package) sit
 * two levels below the package root, where `prompts/` is.
 */
const defaultInstructionPath = fileURLToPath(new URL('../../prompts/instruction.md', import.meta.url));

/** The instruction text from `path`, without surrounding blank lines. @param path @default `prompts/instruction.md` */
export async function loadInstruction(path: string = defaultInstructionPath): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`Cannot read the instruction file ${path}: ${reason}.`, { cause: error });
  }
  const instruction = text.trim();
  if (instruction === '') throw new UsageError(`The instruction file ${path} is empty.`);
  return instruction;
}
