/**
 * The OOM verdict from Docker's events, with a stand-in events stream: the order Docker usually sends
 * (oom, then die), the order it sometimes sends under load (die 137 with no oom), and the endings that
 * are not an OOM (Docker asked to kill; a clean exit).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DockerClient } from '../../../src/runtime/docker/docker-client.js';
import { OomWatcher } from '../../../src/runtime/docker/oom-watch.js';
import { toLogger } from '../../../src/logger.js';

async function watcher(): Promise<{ watch: OomWatcher; send: (action: string, id: string, exitCode?: number) => void }> {
  const events = new PassThrough();
  const client = { containerEvents: async () => events } as unknown as DockerClient;
  const watch = new OomWatcher({ client, session: 's', logger: toLogger(undefined, 'test') });
  await watch.start();
  const send = (action: string, id: string, exitCode?: number): void => {
    const attributes = exitCode === undefined ? {} : { exitCode: String(exitCode) };
    events.write(`${JSON.stringify({ Action: action, Actor: { ID: id, Attributes: attributes } })}\n`);
  };
  return { watch, send };
}

describe('OomWatcher', () => {
  it('says OOM when the oom event comes before the die', async () => {
    const { watch, send } = await watcher();
    const verdict = watch.verdict('a', 5000);
    send('oom', 'a');
    send('die', 'a', 137);
    expect(await verdict).toBe(true);
    watch.close();
  });

  it('says OOM for a die with 137 that Docker was not asked for, even when the oom event never comes', async () => {
    const { watch, send } = await watcher();
    const verdict = watch.verdict('b', 5000);
    send('die', 'b', 137);
    expect(await verdict).toBe(true);
    watch.close();
  });

  it('says no OOM when Docker was asked to kill the container, or it ended by itself with another status', async () => {
    const { watch, send } = await watcher();
    send('kill', 'c');
    send('die', 'c', 137);
    send('die', 'd', 0);
    send('die', 'e', 1);
    expect(await watch.verdict('c', 5000)).toBe(false);
    expect(watch.wasKilled('c')).toBe(true);
    expect(await watch.verdict('d', 5000)).toBe(false);
    expect(await watch.verdict('e', 5000)).toBe(false);
    watch.close();
  });

  it('has no answer without a die (undefined when the wait ends)', async () => {
    const { watch } = await watcher();
    expect(await watch.verdict('f', 10)).toBeUndefined();
    watch.close();
  });
});
