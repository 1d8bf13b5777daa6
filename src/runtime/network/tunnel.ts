/**
 * The host end of the egress tunnel (the container end is keeper.py, which documents the frames).
 *
 * Under network `public` a sandbox has no network interface but loopback. Each TCP connection the
 * script makes to the keeper's proxy port arrives here, multiplexed on the container's attach stream,
 * and becomes one Node `Duplex`; the egress proxy (http-proxy.ts) decides where, if anywhere, it may go.
 *
 * Flow control is by credit, as in the keeper: a side sends at most `tunnelWindowBytes` a connection
 * has not acknowledged. A script that opens connections and never reads them cannot make this process
 * (or the keeper) buffer more than that per connection.
 */
import { Duplex } from 'node:stream';

export const tunnelWindowBytes = 256 * 1024;
const headerBytes = 9;
/** Largest DATA frame this side sends. */
const maxFrameBytes = 64 * 1024;

const Kind = { open: 1, data: 2, close: 3, reset: 4, credit: 5 } as const;

export function encodeFrame(kind: number, stream: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(headerBytes);
  header.writeUInt8(kind, 0);
  header.writeUInt32BE(stream, 1);
  header.writeUInt32BE(payload.length, 5);
  return payload.length === 0 ? header : Buffer.concat([header, payload]);
}

export interface TunnelOptions {
  /** Writes a frame to the container's stdin (the lifeline). */
  send: (frame: Buffer) => void;
  /** A new connection from the script; when unset, connections are refused (reset). */
  onConnection: (connection: Duplex) => void;
}

export class Tunnel {
  readonly #options: TunnelOptions;
  readonly #connections = new Map<number, TunnelConnection>();
  #closed = false;

  constructor(options: TunnelOptions) {
    this.#options = options;
  }

  /** The container is gone: every connection ends. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#connections.values()) connection.destroy();
    this.#connections.clear();
  }

  /** One frame of the tunnel's kinds, split from the keeper's stdout by the sandbox (which owns the framing). */
  receive(kind: number, stream: number, payload: Buffer): void {
    if (this.#closed) return;
    if (kind === Kind.open) {
      if (this.#connections.has(stream)) return;
      const connection = new TunnelConnection(stream, (frameKind, frameStream, data) => this.#send(frameKind, frameStream, data), () =>
        this.#connections.delete(stream),
      );
      this.#connections.set(stream, connection);
      try {
        this.#options.onConnection(connection);
      } catch {
        connection.destroy();
      }
      return;
    }
    const connection = this.#connections.get(stream);
    if (connection === undefined) return;
    if (kind === Kind.data) connection.receive(payload);
    else if (kind === Kind.close) connection.receiveEnd();
    else if (kind === Kind.reset) connection.receiveReset();
    else if (kind === Kind.credit && payload.length === 4) connection.receiveCredit(payload.readUInt32BE(0));
  }

  #send(kind: number, stream: number, payload?: Uint8Array): void {
    if (this.#closed) return;
    this.#options.send(encodeFrame(kind, stream, payload));
  }
}

class TunnelConnection extends Duplex {
  readonly #stream: number;
  readonly #send: (kind: number, stream: number, payload?: Uint8Array) => void;
  readonly #forget: () => void;
  #credit = tunnelWindowBytes;
  /** Bytes received and buffered here that the keeper has not been credited for. */
  #ungranted = 0;
  #writing: { data: Buffer; callback: (error?: Error | null) => void } | undefined;
  #resetByPeer = false;

  constructor(stream: number, send: (kind: number, stream: number, payload?: Uint8Array) => void, forget: () => void) {
    super({ allowHalfOpen: true });
    this.#stream = stream;
    this.#send = send;
    this.#forget = forget;
  }

  receive(data: Buffer): void {
    // Copied: the frame buffer it came in is reused for the next frames.
    if (this.push(Buffer.from(data))) this.#grant(data.length);
    else this.#ungranted += data.length;
  }

  receiveEnd(): void {
    this.push(null);
  }

  receiveReset(): void {
    this.#resetByPeer = true;
    this.destroy();
  }

  receiveCredit(bytes: number): void {
    this.#credit += bytes;
    this.#flush();
  }

  override _read(): void {
    if (this.#ungranted > 0) {
      const bytes = this.#ungranted;
      this.#ungranted = 0;
      this.#grant(bytes);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writing = { data: chunk, callback };
    this.#flush();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#send(Kind.close, this.#stream);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Ended both ways, the connection is over for the keeper too, which forgets it once it has written
    // the last bytes to the script: a reset now would throw away what it still holds for a slow reader.
    const ended = error === null && this.readableEnded && this.writableFinished;
    if (!this.#resetByPeer && !ended) this.#send(Kind.reset, this.#stream);
    this.#forget();
    const writing = this.#writing;
    this.#writing = undefined;
    writing?.callback(error ?? new Error('the connection was closed'));
    callback(error);
  }

  #grant(bytes: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(bytes, 0);
    this.#send(Kind.credit, this.#stream, payload);
  }

  #flush(): void {
    const writing = this.#writing;
    if (writing === undefined) return;
    while (writing.data.length > 0 && this.#credit > 0) {
      const size = Math.min(this.#credit, maxFrameBytes, writing.data.length);
      this.#send(Kind.data, this.#stream, writing.data.subarray(0, size));
      writing.data = writing.data.subarray(size);
      this.#credit -= size;
    }
    if (writing.data.length === 0) {
      this.#writing = undefined;
      writing.callback();
    }
  }
}
