/**
 * Turns a run's raw output into text, live and capped.
 *
 * `FrameDemuxer` splits Docker's multiplexed attach stream (8-byte header: stream type, 3 zero bytes,
 * big-endian length) into stdout and stderr frames. `OutputCollector` decodes each stream incrementally
 * (a multi-byte character split across chunks survives), forwards text to the live callbacks, and keeps
 * the first `limitBytes` bytes of stdout plus stderr together; past the cap it drops the rest and says
 * so, so the caller can stop the script.
 */

export type StreamName = 'stdout' | 'stderr';

export class FrameDemuxer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #onFrame: (stream: StreamName, data: Buffer) => void;

  constructor(onFrame: (stream: StreamName, data: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 8) {
      const type = this.#buffer[0]!;
      const length = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + length) return;
      const data = this.#buffer.subarray(8, 8 + length);
      this.#buffer = this.#buffer.subarray(8 + length);
      // 1 is stdout, 2 stderr; 0 (stdin echo) does not happen without a TTY and is dropped.
      if (type === 1) this.#onFrame('stdout', data);
      else if (type === 2) this.#onFrame('stderr', data);
    }
  }

  /** Bytes of an incomplete frame left at the end (0 when the stream ended cleanly). */
  get pendingBytes(): number {
    return this.#buffer.length;
  }
}

/** Largest prefix of `data` no longer than `maxBytes` that does not end inside a UTF-8 sequence. */
export function utf8SafePrefix(data: Uint8Array, maxBytes: number): Uint8Array {
  if (data.length <= maxBytes) return data;
  let end = maxBytes;
  // If the first byte left out continues a sequence (10xxxxxx), cut before that sequence's lead byte.
  while (end > 0 && end > maxBytes - 4 && (data[end]! & 0xc0) === 0x80) end -= 1;
  return data.subarray(0, end);
}

export interface OutputCollectorOptions {
  limitBytes: number;
  onStdout?: ((text: string) => void) | undefined;
  onStderr?: ((text: string) => void) | undefined;
  /** Called once, when the cap is first passed. */
  onLimit?: (() => void) | undefined;
}

export class OutputCollector {
  readonly #options: OutputCollectorOptions;
  readonly #decoders = { stdout: new TextDecoder('utf-8'), stderr: new TextDecoder('utf-8') };
  readonly #text = { stdout: [] as string[], stderr: [] as string[] };
  #keptBytes = 0;
  #truncated = false;
  #finished = false;

  constructor(options: OutputCollectorOptions) {
    this.#options = options;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  get keptBytes(): number {
    return this.#keptBytes;
  }

  write(stream: StreamName, data: Uint8Array): void {
    if (this.#finished || data.length === 0) return;
    let kept = data;
    if (this.#truncated) return;
    const room = this.#options.limitBytes - this.#keptBytes;
    if (data.length > room) {
      kept = utf8SafePrefix(data, Math.max(room, 0));
      this.#truncated = true;
    }
    this.#keptBytes += kept.length;
    if (kept.length > 0) this.#emit(stream, this.#decoders[stream].decode(kept, { stream: true }));
    if (this.#truncated) this.#options.onLimit?.();
  }

  /** Flushes the decoders (an unfinished character at the very end becomes U+FFFD) and returns the text. */
  finish(): { stdout: string; stderr: string } {
    if (!this.#finished) {
      this.#finished = true;
      for (const stream of ['stdout', 'stderr'] as const) this.#emit(stream, this.#decoders[stream].decode());
    }
    return { stdout: this.#text.stdout.join(''), stderr: this.#text.stderr.join('') };
  }

  #emit(stream: StreamName, text: string): void {
    if (text === '') return;
    this.#text[stream].push(text);
    const callback = stream === 'stdout' ? this.#options.onStdout : this.#options.onStderr;
    try {
      callback?.(text);
    } catch {
      // A throwing callback must not break the run it is watching.
    }
  }
}

/**
 * Keeps the first and the last `halfBytes` of a long output (an installer's log: the start says what
 * was being installed, the end why it failed), so a flood of output costs this process a fixed amount
 * of memory. What was left out in the middle is said in place.
 */
export class HeadTailLog {
  readonly #halfBytes: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #totalBytes = 0;

  constructor(halfBytes: number) {
    this.#halfBytes = halfBytes;
  }

  /** Every byte written so far, kept or not. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  write(data: Buffer): void {
    this.#totalBytes += data.length;
    if (this.#headBytes < this.#halfBytes) {
      const part = data.subarray(0, this.#halfBytes - this.#headBytes);
      this.#head.push(part);
      this.#headBytes += part.length;
      data = data.subarray(part.length);
    }
    if (data.length === 0) return;
    this.#tail.push(data);
    this.#tailBytes += data.length;
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.length >= this.#halfBytes) {
      this.#tailBytes -= this.#tail.shift()!.length;
    }
  }

  get text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    let tail = Buffer.concat(this.#tail);
    if (tail.length > this.#halfBytes) tail = tail.subarray(tail.length - this.#halfBytes);
    const dropped = this.#totalBytes - this.#headBytes - tail.length;
    return dropped > 0 ? `${head}\n[pycage: ${dropped} bytes of output left out]\n${tail.toString('utf8')}` : `${head}${tail.toString('utf8')}`;
  }
}

/**
 * The helper scripts (probe, install, collect) end their output with one JSON line, after whatever
 * else was printed (pip's chatter, warnings): that line parsed, or undefined when it is not JSON.
 */
export function lastJsonLine(text: string): unknown {
  try {
    return JSON.parse(text.trim().split('\n').at(-1)!) as unknown;
  } catch {
    return undefined;
  }
}
