/**
 * The one way extraction fails: the model answered, but not with Python pycage can run. It is a model
 * problem (exit 4), and worth asking again, which is what the agent loop does with it.
 */
import { ExitCode, PycageError } from '../errors.js';

export class NoCodeBlockError extends PycageError {
  override readonly name: string = 'NoCodeBlockError';
  /** The model's answer as it came, so the caller can show it or send it back to the model. */
  readonly answer: string;
  /** How many fenced blocks the answer had (none of them Python). */
  readonly blocks: number;

  constructor(message: string, options: { answer: string; blocks: number }) {
    super(message, {
      exitCode: ExitCode.model,
      isRetryable: true,
      hint: 'The model was asked for one ```python block. Try again, or say more plainly what the program should do.',
    });
    this.answer = options.answer;
    this.blocks = options.blocks;
  }
}
