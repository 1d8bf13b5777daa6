/**
 * pycage's reaper: removes the containers whose creation was in flight when the pycage process that
 * started it died. reaper.ts starts one per Node process and Docker engine, detached (its own session:
 * a signal to pycage's process group does not reach it), with its stdin a pipe from that process.
 *
 * A container is covered by its lifeline once it is started (keeper.py exits when the attach
 * connection closes, and AutoRemove deletes the container). Between the create request and the start
 * it has no lifeline, and a kill -9 of pycage then would leave it `Created` for good. So pycage
 * writes, on the pipe, a line before each creation and another once the container is started (or its
 * failed start cleaned up); when the pipe closes, which the kernel does when pycage dies however it
 * dies, this program removes every container still announced, and exits.
 *
 * Lines: the first is the engine's options (DockerOptions as JSON, Buffers as `{"base64": ...}`), then
 * `+ NAME` (a creation starts) and `- NAME` (it is covered by its lifeline, or gone).
 *
 * A creation may land on the engine after pycage died (the request was sent, the daemon had not
 * answered): so this program first follows the engine's create events, then removes each announced
 * name that exists, and removes the others as their create events arrive, for up to `graceMs` (a
 * request that never reached the daemon creates nothing, and is given up then). The Docker client is
 * loaded only when there is such work: while pycage lives, this process costs a Node start-up.
 */
import { createInterface } from 'node:readline';
import type { DockerOptions } from './docker-client.js';

const graceMs = 60_000;
const pending = new Set<string>();
let options: DockerOptions | undefined;

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (options === undefined) {
    options = JSON.parse(line, (_key, value: unknown) => (isEncodedBuffer(value) ? Buffer.from(value.base64, 'base64') : value)) as DockerOptions;
  } else if (line.startsWith('+ ')) pending.add(line.slice(2));
  else if (line.startsWith('- ')) pending.delete(line.slice(2));
});
lines.on('close', () => {
  if (pending.size === 0) process.exit(0);
  removeAnnounced().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

function isEncodedBuffer(value: unknown): value is { base64: string } {
  return typeof value === 'object' && value !== null && typeof (value as { base64?: unknown }).base64 === 'string' && Object.keys(value).length === 1;
}

async function removeAnnounced(): Promise<void> {
  const { DockerClient, onContainerEvents, statusCode } = await import('./docker-client.js');
  const client = new DockerClient(options);
  let finish = (): void => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const timer = setTimeout(finish, graceMs);
  const remove = async (name: string): Promise<void> => {
    try {
      await client.removeContainer(name);
      pending.delete(name);
    } catch (error) {
      // 409: its removal is already under way (AutoRemove). 404: not created yet, or never will be;
      // its create event, if it comes, removes it.
      if (statusCode(error) === 409) pending.delete(name);
    }
    if (pending.size === 0) finish();
  };
  // Events first, then the removals: a creation that lands between the two is still seen.
  const events = await client.containerEvents({ actions: ['create'], labels: ['pycage=true'] });
  onContainerEvents(events, ({ attributes }) => {
    if (attributes.name !== undefined && pending.has(attributes.name)) void remove(attributes.name);
  });
  events.on('error', finish);
  await Promise.all([...pending].map(remove));
  await done;
  clearTimeout(timer);
  events.destroy();
}
