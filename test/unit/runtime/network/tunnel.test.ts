// The host end of the egress tunnel, fed frames as the keeper would send them: which frames it sends
// back when a connection ends cleanly, and when it is torn down.
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Tunnel } from '../../../../src/runtime/network/tunnel.js';

const Kind = { open: 1, data: 2, close: 3, reset: 4, credit: 5 } as const;

/** A tunnel whose frames to the keeper are decoded into `[kind, stream]` pairs (payloads left out). */
function startTunnel(): { tunnel: Tunnel; sent: Array<[number, number]>; connections: Duplex[] } {
  const sent: Array<[number, number]> = [];
  const connections: Duplex[] = [];
  const tunnel = new Tunnel({
    send: (frame) => sent.push([frame.readUInt8(0), frame.readUInt32BE(1)]),
    onConnection: (connection) => connections.push(connection),
  });
  return { tunnel, sent, connections };
}

describe('Tunnel', () => {
  it('sends no reset for a connection that ended both ways: the keeper may still be writing its last bytes', async () => {
    const { tunnel, sent, connections } = startTunnel();
    tunnel.receive(Kind.open, 7, Buffer.alloc(0));
    const connection = connections[0]!;
    const received: Buffer[] = [];
    connection.on('data', (chunk: Buffer) => received.push(chunk));
    tunnel.receive(Kind.data, 7, Buffer.from('request'));
    tunnel.receive(Kind.close, 7, Buffer.alloc(0));
    connection.end(Buffer.from('answer'));
    await once(connection, 'close');
    expect(Buffer.concat(received).toString()).toBe('request');
    expect(sent.filter(([kind]) => kind !== Kind.credit)).toEqual([
      [Kind.data, 7],
      [Kind.close, 7],
    ]);
  });

  it('resets a connection destroyed before it ended, and not one the keeper reset', async () => {
    const { tunnel, sent, connections } = startTunnel();
    tunnel.receive(Kind.open, 1, Buffer.alloc(0));
    tunnel.receive(Kind.open, 2, Buffer.alloc(0));
    const [first, second] = connections;
    first!.destroy();
    await once(first!, 'close');
    tunnel.receive(Kind.reset, 2, Buffer.alloc(0));
    await once(second!, 'close');
    expect(sent).toEqual([[Kind.reset, 1]]);
  });
});
