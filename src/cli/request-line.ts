/**
 * The session's request prompt: one line of input drawn like @clack/prompts' text prompt, on
 * node:readline so that the up and down arrows bring back earlier requests (clack's text prompt keeps
 * no history). Ctrl-C and Ctrl-D at this prompt mean "leave", as the session promises.
 */
import { createInterface } from 'node:readline';
import type { Colors } from './colors.js';
import type { InputStream, OutputStream } from './io.js';

/** What the prompt gives back when the user leaves with Ctrl-C or Ctrl-D. */
export const leftPrompt = Symbol('left the prompt');

export interface RequestLineOptions {
  input: InputStream;
  output: OutputStream;
  colors: Colors;
  message: string;
  /** Shown dimmed under the message while nothing is typed yet. */
  placeholder?: string;
  /** Text already in the line, to edit or send again. */
  initialValue?: string;
  /** Earlier requests, oldest first: the up arrow walks back through them. @default [] */
  history?: readonly string[];
}

export function askRequestLine(options: RequestLineOptions): Promise<string | typeof leftPrompt> {
  const { input, output, colors } = options;
  const bar = colors.cyan('│');
  const hint = options.placeholder === undefined || options.initialValue !== undefined ? '' : `  ${colors.dim(`(${options.placeholder})`)}`;
  output.write(`${colors.dim('│')}\n${colors.cyan('◆')}  ${options.message}${hint}\n`);
  return new Promise((resolve) => {
    const line = createInterface({
      input,
      output,
      terminal: true,
      // readline keeps the newest entry first.
      history: [...(options.history ?? [])].reverse(),
      historySize: 500,
      removeHistoryDuplicates: true,
      prompt: `${bar}  `,
    });
    let settled = false;
    const finish = (value: string | typeof leftPrompt): void => {
      if (settled) return;
      settled = true;
      line.close();
      resolve(value);
    };
    line.on('line', (text) => finish(text));
    // Ctrl-C: with a listener here, readline does not pass the keypress on as a signal.
    line.on('SIGINT', () => {
      output.write('\n');
      finish(leftPrompt);
    });
    // Ctrl-D on an empty line, or the input ending.
    line.on('close', () => finish(leftPrompt));
    line.prompt();
    if (options.initialValue !== undefined) line.write(options.initialValue);
  });
}
