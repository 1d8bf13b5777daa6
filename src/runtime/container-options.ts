/**
 * The hardened container a script (or an install, or a probe) lives in, as the exact options sent to
 * Docker's create call. Kept pure so every hardening field can be checked by a unit test without a
 * daemon; the sandbox code only adds the name and sends it.
 *
 * The main process is a sleeper that blocks on its stdin. The runtime keeps that stdin attached for the
 * container's whole life (the "lifeline"): when the Node process dies, even by SIGKILL, the connection
 * closes, the sleeper reads EOF and exits, and Docker's AutoRemove deletes the container.
 */
import { createHash } from 'node:crypto';
import type { ContainerCreateOptions } from 'dockerode';
import type { NetworkMode } from './types.js';

export const sandboxUid = 10001;
/** uid:gid every script runs as, whatever users the image defines (none are assumed to exist). */
export const sandboxUser = `${sandboxUid}:${sandboxUid}`;

/** Where the environment volume is mounted, read-only in runs. */
export const environmentsMountPath = '/opt/pycage/envs';
/** The script's working directory and HOME, a tmpfs. */
export const workDirectory = '/work';
export const outputDirectory = `${workDirectory}/output`;

/** Blocks until its stdin reaches EOF, i.e. until the runtime holding the lifeline goes away. */
export const sleeperSource = 'import sys\nwhile sys.stdin.buffer.read(65536):\n    pass\n';

export interface SandboxSettings {
  /** Image id (`sha256:...`) or reference. */
  image: string;
  /** PATH from the image's own config, so `python3` is found where that image keeps it. */
  imagePath: string;
  network: NetworkMode;
  memoryBytes: number;
  cpus: number;
  pidsLimit: number;
  gvisor: boolean;
  tmpBytes: number;
  workBytes: number;
  environmentVolume: string;
  /** Only install containers mount the environment volume writable. */
  environmentsWritable: boolean;
}

/** The image's PATH when it sets none. */
export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The variables every sandboxed process starts with; nothing of the host's environment. */
export function baseEnvironment(imagePath: string): Record<string, string> {
  return {
    PATH: imagePath,
    HOME: workDirectory,
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    MPLBACKEND: 'Agg',
    PYCAGE_OUTPUT_DIR: outputDirectory,
  };
}

export function toEnvList(environment: Record<string, string>): string[] {
  return Object.entries(environment).map(([name, value]) => `${name}=${value}`);
}

/**
 * Containers with equal keys are interchangeable, so the pool hands out any of them. Everything that is
 * fixed at create time is in it; what varies per run (env, args, timeout) is given to the exec instead.
 */
export function poolKey(settings: SandboxSettings): string {
  const fields = [
    settings.image,
    settings.imagePath,
    settings.network,
    settings.memoryBytes,
    settings.cpus,
    settings.pidsLimit,
    settings.gvisor ? 'runsc' : 'default',
    settings.tmpBytes,
    settings.workBytes,
    settings.environmentVolume,
    settings.environmentsWritable ? 'rw' : 'ro',
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

export function tmpfsOptions(sizeBytes: number, owned: boolean): string {
  const base = `rw,nosuid,nodev,size=${sizeBytes}`;
  // /work belongs to the sandbox user alone; /tmp is world-writable with the sticky bit, as usual.
  return owned ? `${base},uid=${sandboxUid},gid=${sandboxUid},mode=0700` : `${base},mode=1777`;
}

export function sandboxCreateOptions(
  settings: SandboxSettings,
  labels: Record<string, string>,
  name?: string,
): ContainerCreateOptions {
  const options: ContainerCreateOptions = {
    Image: settings.image,
    Entrypoint: ['python3', '-I', '-S', '-c', sleeperSource],
    Cmd: [],
    User: sandboxUser,
    WorkingDir: workDirectory,
    Env: toEnvList(baseEnvironment(settings.imagePath)),
    Labels: labels,
    // The lifeline: stdin stays open while the runtime holds the attach stream, and closes with it.
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    NetworkDisabled: settings.network !== 'open',
    HostConfig: {
      AutoRemove: true,
      Init: true,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Tmpfs: {
        '/tmp': tmpfsOptions(settings.tmpBytes, false),
        [workDirectory]: tmpfsOptions(settings.workBytes, true),
      },
      Memory: settings.memoryBytes,
      MemorySwap: settings.memoryBytes,
      NanoCpus: Math.round(settings.cpus * 1e9),
      PidsLimit: settings.pidsLimit,
      // `public` reaches the outside only through the egress tunnel on the lifeline: the container itself has no network.
      NetworkMode: settings.network === 'open' ? 'bridge' : 'none',
      Mounts: [
        {
          Type: 'volume',
          Source: settings.environmentVolume,
          Target: environmentsMountPath,
          ReadOnly: !settings.environmentsWritable,
        },
      ],
      // No Binds, no Docker socket, no devices: nothing of the host goes in.
      Binds: [],
      Devices: [],
      IpcMode: 'private',
      LogConfig: { Type: 'none', Config: {} },
    },
  };
  if (settings.gvisor) options.HostConfig!.Runtime = 'runsc';
  if (name !== undefined) options.name = name;
  return options;
}

/**
 * The one-off root container that hands the fresh environment volume to the sandbox user. It may change
 * owners and nothing else: every capability is dropped except CAP_CHOWN.
 */
export function volumeOwnerCreateOptions(
  settings: Pick<SandboxSettings, 'image' | 'imagePath' | 'environmentVolume'>,
  labels: Record<string, string>,
): ContainerCreateOptions {
  // chmod first: once the directory is 10001's, root without CAP_FOWNER may no longer change its mode.
  const target = JSON.stringify(environmentsMountPath);
  const script = `import os\nos.chmod(${target}, 0o755)\nos.chown(${target}, ${sandboxUid}, ${sandboxUid})\n`;
  return {
    Image: settings.image,
    Entrypoint: ['python3', '-I', '-S', '-c', script],
    Cmd: [],
    User: '0:0',
    Env: toEnvList({ PATH: settings.imagePath }),
    Labels: labels,
    NetworkDisabled: true,
    HostConfig: {
      AutoRemove: false,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      CapAdd: ['CHOWN'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: 'none',
      Memory: 64 * 1024 * 1024,
      MemorySwap: 64 * 1024 * 1024,
      PidsLimit: 16,
      Mounts: [{ Type: 'volume', Source: settings.environmentVolume, Target: environmentsMountPath, ReadOnly: false }],
    },
  };
}
