/**
 * Which image runs the scripts, and what it offers.
 *
 * The default image is built on first use from docker/Dockerfile, tagged with a hash of that file (an
 * edit means a rebuild), its build log streamed as `image-build` events. A named image (the `image`
 * option or PYCAGE_IMAGE) is used as is, pulled when the daemon does not have it. Either way the image
 * is probed once per image id, in a short-lived hardened container, for its Python version and
 * installer (uv, else pip in a venv); the answer is cached in memory and on disk, keyed by image id,
 * which is content-addressed, so it never goes stale.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'tar-stream';
import { PycageError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { defaultPath, workDirectory, type SandboxSettings } from './container-options.js';
import { daemonMessage, type DockerClient } from './docker-client.js';
import { ImageError, SandboxError } from '../errors.js';
import { containerLabels, sharedLabels } from './labels.js';
import { memoize } from '../memo.js';
import { parseProbe, type PythonProbe } from '../probe.js';
import { loadPythonSource } from '../python/sources.js';
import { Sandbox } from './sandbox.js';
import type { RuntimeEvent } from '../types.js';

/**
 * The offline image recipe of this very package, as an absolute path: in a global install a path
 * relative to the user's folder would point nowhere.
 */
export const offlineImageScript = fileURLToPath(new URL('../../../docker/build-offline-image.sh', import.meta.url));

export const offlineHint = `No registry reachable? Build an image without one: \`sudo bash ${offlineImageScript}\`, then pass --image pycage-offline:bookworm (or set PYCAGE_IMAGE).`;

export interface ResolvedImage {
  /** As the caller named it, or the default image's tag. */
  reference: string;
  /** `sha256:...` */
  id: string;
  /** PATH from the image's config. */
  path: string;
  built: boolean;
}

export function dockerfileUrl(): URL {
  return new URL('../../../docker/Dockerfile', import.meta.url);
}

/** `pycage-python:<first 12 hex of sha256(Dockerfile)>` */
export function defaultImageTag(dockerfile: string): string {
  return `pycage-python:${createHash('sha256').update(dockerfile).digest('hex').slice(0, 12)}`;
}

/** docker/Dockerfile as it is now, and the tag the default image built from it has. */
export async function readDefaultDockerfile(): Promise<{ dockerfile: string; tag: string }> {
  const dockerfile = await readFile(dockerfileUrl(), 'utf8');
  return { dockerfile, tag: defaultImageTag(dockerfile) };
}

/**
 * A build context for Docker's build API: a tar of the given files (the default image needs its
 * Dockerfile alone). Every entry is dated 1970, so the same files always make the same bytes.
 */
export async function buildContext(files: ReadonlyArray<{ name: string; data: Uint8Array }>): Promise<Buffer> {
  const archive = pack();
  for (const file of files) archive.entry({ name: file.name, mode: 0o644, mtime: new Date(0) }, file.data);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) {
    // tar-stream's types leave its chunks unknown; in Node they are Buffers.
    if (!Buffer.isBuffer(chunk)) throw new Error('tar-stream produced a chunk that is not a Buffer');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function imagePath(env: readonly string[] | undefined): string {
  const entry = env?.find((variable) => variable.startsWith('PATH='));
  return entry === undefined ? defaultPath : entry.slice('PATH='.length);
}

/** Whether a build or pull failure reads like "no registry here". */
export function looksLikeRegistryFailure(message: string): boolean {
  return /registry|dial tcp|lookup |no such host|i\/o timeout|TLS handshake|connection refused|network is unreachable|pull access denied|manifest unknown|failed to resolve|toomanyrequests/i.test(
    message,
  );
}

interface ResolveOptions {
  client: DockerClient;
  /** Named image; undefined means the default image from docker/Dockerfile. */
  image: string | undefined;
  logger: Logger;
  onEvent: (event: RuntimeEvent) => void;
  abortSignal?: AbortSignal | undefined;
}

// One build or pull per image per process, however many runtimes ask at once.
const resolving = new Map<string, Promise<ResolvedImage>>();

export function resolveImage(options: ResolveOptions): Promise<ResolvedImage> {
  const cacheKey = `${options.client.endpoint}\n${options.image ?? '(default)'}`;
  // A failure is not cached: the next run tries again (the registry may be back).
  const promise = memoize(resolving, cacheKey, () => (options.image === undefined ? buildDefaultImage(options) : useNamedImage(options, options.image)));
  return promise.then((image) => {
    options.onEvent({ type: 'image-ready', image: image.reference, built: image.built });
    return image;
  });
}

async function useNamedImage(options: ResolveOptions, reference: string): Promise<ResolvedImage> {
  const { client, logger } = options;
  let info = await client.inspectImage(reference);
  if (info === undefined) {
    logger.info(`image ${reference} is not on the daemon; pulling it`);
    try {
      let lastStatus = '';
      let pullError: string | undefined;
      await client.pullImage(reference, {
        abortSignal: options.abortSignal,
        onProgress: (event) => {
          if (typeof event.error === 'string') pullError = event.error;
          const line = [event.status, event.id].filter((part) => typeof part === 'string').join(' ');
          if (line !== '' && line !== lastStatus && event.progressDetail === undefined) {
            lastStatus = line;
            options.onEvent({ type: 'image-build', line });
            logger.info(line);
          }
        },
      });
      if (pullError !== undefined) throw new Error(pullError);
    } catch (error) {
      if (PycageError.isInstance(error)) throw error;
      const message = daemonMessage(error);
      throw new ImageError(`Image ${reference} is not on the Docker daemon and could not be pulled: ${message}`, {
        image: reference,
        cause: error,
        hint: looksLikeRegistryFailure(message)
          ? `Check the name, or use an image the daemon has (docker images). ${offlineHint}`
          : 'Check the image name (docker images lists what the daemon has).',
      });
    }
    info = await client.inspectImage(reference);
    if (info === undefined) throw new ImageError(`Image ${reference} could not be found after pulling it.`, { image: reference });
  }
  return { reference, id: info.id, path: imagePath(info.env), built: false };
}

async function buildDefaultImage(options: ResolveOptions): Promise<ResolvedImage> {
  const { client, logger } = options;
  const { dockerfile, tag } = await readDefaultDockerfile();
  const existing = await client.inspectImage(tag);
  if (existing !== undefined) return { reference: tag, id: existing.id, path: imagePath(existing.env), built: false };

  logger.info(`building ${tag} from docker/Dockerfile (first use)`);
  const context = await buildContext([{ name: 'Dockerfile', data: Buffer.from(dockerfile) }]);
  const failures: string[] = [];
  try {
    await client.buildImage(context, {
      tag,
      labels: sharedLabels(),
      abortSignal: options.abortSignal,
      onProgress: (event) => {
        if (typeof event.error === 'string') failures.push(event.error);
        const text = typeof event.stream === 'string' ? event.stream : typeof event.status === 'string' ? event.status : undefined;
        if (text === undefined) return;
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          options.onEvent({ type: 'image-build', line });
          logger.info(line);
        }
      },
    });
  } catch (error) {
    if (PycageError.isInstance(error)) throw error;
    failures.push(daemonMessage(error));
  }
  const built = failures.length === 0 ? await client.inspectImage(tag) : undefined;
  if (built === undefined) {
    const message = failures.at(-1) ?? 'the build ended without an image';
    throw new ImageError(`Could not build the default image ${tag} from docker/Dockerfile: ${message.trim()}`, {
      image: tag,
      hint: looksLikeRegistryFailure(message) ? offlineHint : 'See the build log above (--verbose), or pass --image.',
    });
  }
  return { reference: tag, id: built.id, path: imagePath(built.env), built: true };
}

const probes = new Map<string, Promise<PythonProbe>>();

interface ProbeOptions {
  client: DockerClient;
  image: ResolvedImage;
  /** Settings of the probe container (network none, small limits). */
  settings: SandboxSettings;
  session: string;
  cacheDir: string;
  logger: Logger;
}

export function probeImage(options: ProbeOptions): Promise<PythonProbe> {
  return memoize(probes, options.image.id, () => probeOnce(options));
}

function probeCacheFile(cacheDir: string, imageId: string): string {
  return path.join(cacheDir, 'images', `${imageId.replace(/^sha256:/, '')}.json`);
}

async function probeOnce(options: ProbeOptions): Promise<PythonProbe> {
  const { client, image, logger } = options;
  const cacheFile = probeCacheFile(options.cacheDir, image.id);
  const cached = parseProbe(await readFile(cacheFile, 'utf8').catch(() => ''));
  if (cached !== undefined) return cached;

  const source = await loadPythonSource('probe');
  let sandbox: Sandbox | undefined;
  let stdout = '';
  let stderr = '';
  try {
    sandbox = await Sandbox.create({
      client,
      settings: options.settings,
      labels: containerLabels({ role: 'probe', session: options.session }),
      name: `pycage-${options.session}-probe-${Date.now().toString(36)}`,
      poolKey: 'probe',
      logger,
    });
    const outcome = await sandbox.exec({
      cmd: ['python3', '-I', '-c', source],
      env: { PATH: image.path, HOME: workDirectory, LANG: 'C.UTF-8' },
      onOutput: (stream, data) => {
        if (stream === 'stdout') stdout += data.toString('utf8');
        else stderr += data.toString('utf8');
      },
    });
    const probe = outcome.exitCode === 0 ? parseProbe(stdout) : undefined;
    if (probe === undefined) {
      // The container's own words first (tini failing to exec the keeper's python3), when it said any.
      await Promise.race([sandbox.exited, new Promise((resolve) => setTimeout(resolve, 200).unref())]);
      const said = sandbox.lifelineOutput.trim() || (stderr || stdout).trim();
      throw new ImageError(`Image ${image.reference} could not run python3: ${said.slice(0, 500) || `exit ${outcome.exitCode}`}`, {
        image: image.reference,
        hint: 'pycage needs an image with python3 on its PATH.',
      });
    }
    logger.info(`image ${image.reference}: Python ${probe.pythonVersion}, installer ${probe.uv ? `uv ${probe.uvVersion}` : probe.venv ? 'pip (venv)' : 'none'}`);
    await mkdir(path.dirname(cacheFile), { recursive: true }).catch(() => undefined);
    await writeFile(cacheFile, `${JSON.stringify(probe)}\n`).catch(() => undefined);
    return probe;
  } catch (error) {
    if (error instanceof SandboxError && sandbox !== undefined) {
      // The container died at once (tini could not exec python3): its own words say why.
      await Promise.race([sandbox.exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      const said = sandbox?.lifelineOutput.trim();
      throw new ImageError(`Image ${image.reference} could not start python3${said ? `: ${said.slice(0, 500)}` : ''}`, {
        image: image.reference,
        cause: error,
        hint: 'pycage needs an image with python3 on its PATH.',
      });
    }
    throw error;
  } finally {
    await sandbox?.destroy();
  }
}
