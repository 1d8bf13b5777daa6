/**
 * Integration tests need a running Docker daemon and a Python image that can be had without a
 * registry. The image is named by PYCAGE_TEST_IMAGE (default `pycage-offline:bookworm`); when it is
 * missing it is built here from docker/build-offline-image.sh, which needs root and debootstrap.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const defaultTestImage = 'pycage-offline:bookworm';

/** Environment volumes of pycage's default cache (`pycage-env-<key>`), as the CLI tests fill it. */
function defaultCacheVolumes(): string[] {
  const listed = spawnSync('docker', ['volume', 'ls', '-q', '--filter', 'label=pycage=true', '--filter', 'name=^pycage-env-'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout.split('\n').filter((name) => name.startsWith('pycage-env-')) : [];
}

/**
 * Returns the teardown: the CLI tests install into pycage's default cache (one volume per
 * environment); the volumes this run added are removed afterwards, and those that were there before
 * (a developer's own cache) are left alone.
 */
export default function setup(): () => void {
  const before = new Set(defaultCacheVolumes());
  const teardown = (): void => {
    const added = defaultCacheVolumes().filter((name) => !before.has(name));
    if (added.length > 0) spawnSync('docker', ['volume', 'rm', '-f', ...added], { encoding: 'utf8' });
  };
  prepareImage();
  return teardown;
}

function prepareImage(): void {
  const image = process.env.PYCAGE_TEST_IMAGE ?? defaultTestImage;
  process.env.PYCAGE_TEST_IMAGE = image;

  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.status !== 0) {
    throw new Error(`integration tests need a running Docker daemon (docker info: ${info.stderr.trim() || info.error?.message})`);
  }
  const inspect = spawnSync('docker', ['image', 'inspect', image], { encoding: 'utf8' });
  if (inspect.status === 0) return;

  const script = fileURLToPath(new URL('../../docker/build-offline-image.sh', import.meta.url));
  console.log(`[global-setup] building ${image} with ${script}`);
  execFileSync('bash', [script, image], { stdio: 'inherit' });
}
