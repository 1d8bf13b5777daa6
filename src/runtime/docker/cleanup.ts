/**
 * Engine-wide housekeeping: the start-up sweep of containers whose owning process died without
 * cleaning up (a SIGKILL, a crash, a power cut), and `prune()`, which removes everything pycage ever
 * made on the engine.
 */
import os from 'node:os';
import { toLogger, type Logger, type LogSink } from '../../logger.js';
import { daemonMessage, DockerClient, statusCode, type DockerOptions } from './docker-client.js';
import { isOrphan, isProcessAlive, labelFilter, labelKeys } from './labels.js';
import { memoize } from '../memo.js';
import { checkPruneOptions } from '../option-keys.js';

// One sweep per engine per process is enough: later orphans belong to processes that are still alive.
const swept = new Map<string, Promise<number>>();

/** Removes containers made on this host by processes that no longer exist. Returns how many. */
export function sweepOrphans(client: DockerClient, logger: Logger): Promise<number> {
  return memoize(swept, client.endpoint, () => sweepOnce(client, logger));
}

/**
 * Force-removes each container, all at once; a failure goes to `onError` (each caller has its own
 * policy) and does not stop the others. Returns how many were removed.
 */
export async function removeContainers(
  client: DockerClient,
  containers: ReadonlyArray<{ id: string }>,
  onError: (error: unknown, container: { id: string }) => void,
): Promise<number> {
  let removed = 0;
  await Promise.all(
    containers.map(async (container) => {
      try {
        await client.removeContainer(container.id);
        removed += 1;
      } catch (error) {
        onError(error, container);
      }
    }),
  );
  return removed;
}

async function sweepOnce(client: DockerClient, logger: Logger): Promise<number> {
  const hostname = os.hostname();
  const containers = await client.listContainers({ label: [...labelFilter().label, `${labelKeys.ownerHost}=${hostname}`] });
  const orphans = containers.filter((container) => isOrphan(container.labels, { hostname, isAlive: isProcessAlive }));
  await removeContainers(client, orphans, (error, container) => {
    const code = statusCode(error);
    if (code !== 404 && code !== 409) logger.warn(`could not remove leftover container ${container.id.slice(0, 12)}: ${daemonMessage(error)}`);
  });
  if (orphans.length > 0) logger.info(`removed ${orphans.length} container(s) left by pycage processes that are gone`);
  return orphans.length;
}

export interface PruneOptions {
  docker?: DockerOptions;
  logger?: Logger | LogSink;
}

/**
 * Removes every container, volume and image labelled `pycage=true` on the engine, whoever made them
 * (`pycage prune`). The environment cache goes too, so the next run with requirements installs again.
 */
export async function prune(options: PruneOptions = {}): Promise<{ containers: number; volumes: number; images: number }> {
  checkPruneOptions(options);
  const client = new DockerClient(options.docker);
  const logger = toLogger(options.logger, 'Runtime');
  const filters = labelFilter();
  const containerList = await client.listContainers(filters);
  const containers = await removeContainers(client, containerList, (error, container) => {
    if (statusCode(error) === 404) return;
    logger.warn(`could not remove container ${container.id.slice(0, 12)}: ${daemonMessage(error)}`);
  });
  const volumes = await removeEach(await client.listVolumes(filters), (volume) => client.removeVolume(volume), (volume) => `volume ${volume}`, logger);
  const images = await removeEach(await client.listImages(filters), (image) => client.removeImage(image), (image) => `image ${image.slice(7, 19)}`, logger);
  logger.info(`pruned ${containers} container(s), ${volumes} volume(s), ${images} image(s)`);
  return { containers, volumes, images };
}

/** Removes each item in turn; one already gone is fine, one that cannot go is logged. How many went. */
async function removeEach(items: readonly string[], remove: (item: string) => Promise<unknown>, describe: (item: string) => string, logger: Logger): Promise<number> {
  let removed = 0;
  for (const item of items) {
    try {
      await remove(item);
      removed += 1;
    } catch (error) {
      if (statusCode(error) !== 404) logger.warn(`could not remove ${describe(item)}: ${daemonMessage(error)}`);
    }
  }
  return removed;
}
