/**
 * Integration tests need a running Docker daemon and a Python image that can be had without a
 * registry. The image is named by PYCAGE_TEST_IMAGE (default `pycage-offline:bookworm`); when it is
 * missing it is built here from docker/build-offline-image.sh, which needs root and debootstrap.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const defaultTestImage = 'pycage-offline:bookworm';

export default function setup(): void {
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
