/**
 * The hardened container a script (or an install, or a probe) lives in, as the exact options sent to
 * Docker's create call. Kept pure so every hardening field can be checked by a unit test without a
 * daemon; the sandbox code only adds the name and sends it.
 *
 * Two users live in a container. The main process, keeper.py, runs as root with every capability
 * dropped but CAP_KILL, CAP_SETUID and CAP_SETGID: it holds the lifeline (its stdin stays attached to
 * the runtime for the container's whole life; when the Node process dies, even by SIGKILL, the
 * connection closes, the keeper reads EOF and exits, and Docker's AutoRemove deletes the container),
 * carries the egress tunnel, starts the script (a forked child that drops to the sandbox user, which
 * clears every capability, before it execs the bootstrap) and kills every process of the sandbox user
 * when a run ends (reap.py, in another forked child). Scripts and installs run as the sandbox user
 * (10001) with no capabilities at all: a process of another uid cannot signal, trace or freeze the
 * keeper, so nothing a script leaves behind can keep the container alive or stop pycage's own steps.
 */
import { createHash } from 'node:crypto';
import type { ContainerCreateOptions } from './docker-client.js';
import { labelKeys } from './labels.js';
import { scriptEnvironment } from '../script-environment.js';
import type { NetworkMode } from '../types.js';

export const sandboxUid = 10001;
/** uid:gid every script runs as, whatever users the image defines (none are assumed to exist). */
export const sandboxUser = `${sandboxUid}:${sandboxUid}`;
/** The keeper and pycage's own short steps (reap, store): root, with CAP_KILL, CAP_SETUID and CAP_SETGID only. */
export const keeperUser = '0:0';

/** Where environments are mounted: each one at `<this>/<key>`, read-only in runs. */
export const environmentsMountPath = '/opt/pycage/envs';
/** Where an install container mounts the environment's volume (writable by root only). */
export const storeMountPath = '/opt/pycage/store';
/** The script's working directory and HOME, a tmpfs. */
export const workDirectory = '/work';
export const outputDirectory = `${workDirectory}/output`;
/** Where the keeper listens for the script's proxied connections under network `public`. */
export const proxyPort = 3128;
export const proxyUrl = `http://127.0.0.1:${proxyPort}`;

/** The directory an environment has inside every container (its venv is `<this>/venv`). */
export function environmentPath(key: string): string {
  return `${environmentsMountPath}/${key}`;
}

export interface EnvironmentMount {
  key: string;
  /** The environment's own Docker volume. */
  volume: string;
}

export interface InstallMounts extends EnvironmentMount {
  /** Size of the tmpfs the environment is built in: the most an environment may hold. */
  limitBytes: number;
}

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
  /** A run's environment, mounted read-only at its path; a run mounts no other. */
  environment?: EnvironmentMount | undefined;
  /**
   * An install container's mounts: a tmpfs of `limitBytes` at the environment's path (where the
   * install, as the sandbox user, builds it), and the environment's volume at `storeMountPath`, which
   * only root (store.py, after every process of the sandbox user is gone) writes.
   */
  install?: InstallMounts | undefined;
}

/** The image's PATH when it sets none. */
export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The variables a sandboxed script starts with (see script-environment.ts); nothing of the host's environment. */
export function baseEnvironment(imagePath: string): Record<string, string> {
  return scriptEnvironment({ path: imagePath, home: workDirectory, outputDirectory });
}

/**
 * The proxy variables of a process under network `public`: every common spelling, so that requests,
 * httpx, urllib, pip, uv and curl all use the tunnel. A client that ignores them has no network at all.
 * @param keepLocal the script's own loopback stays direct (its own servers); an install has none.
 */
export function proxyEnvironment(keepLocal: boolean): Record<string, string> {
  const environment: Record<string, string> = {
    HTTP_PROXY: proxyUrl,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    https_proxy: proxyUrl,
  };
  if (keepLocal) {
    environment.NO_PROXY = 'localhost,127.0.0.1,::1';
    environment.no_proxy = environment.NO_PROXY;
  }
  return environment;
}

export function toEnvList(environment: Record<string, string>): string[] {
  return Object.entries(environment).map(([name, value]) => `${name}=${value}`);
}

/**
 * Containers with equal keys are interchangeable, so the pool hands out any of them. Everything that is
 * fixed at create time is in it; what varies per run (env, args, timeout, the egress policy, which
 * lives on the host) is given to the exec or the run instead.
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
    settings.environment?.volume ?? null,
    settings.install === undefined ? null : [settings.install.volume, settings.install.limitBytes],
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 16);
}

/**
 * @param owner `private`: the sandbox user's alone (/work); `readable`: the sandbox user's, readable by
 * root (an environment being built, which store.py, as root without CAP_DAC_OVERRIDE, copies out);
 * `shared`: world-writable with the sticky bit, as /tmp usually is.
 */
export function tmpfsOptions(sizeBytes: number, owner: 'private' | 'readable' | 'shared'): string {
  const base = `rw,nosuid,nodev,size=${sizeBytes}`;
  if (owner === 'shared') return `${base},mode=1777`;
  return `${base},uid=${sandboxUid},gid=${sandboxUid},mode=${owner === 'private' ? '0700' : '0755'}`;
}

/** @param keeper the source of keeper.py, run as the main process. */
export function sandboxCreateOptions(
  settings: SandboxSettings,
  labels: Record<string, string>,
  keeper: string,
  name?: string,
): ContainerCreateOptions {
  const tmpfs: Record<string, string> = {
    '/tmp': tmpfsOptions(settings.tmpBytes, 'shared'),
    [workDirectory]: tmpfsOptions(settings.workBytes, 'private'),
  };
  const mounts: NonNullable<NonNullable<ContainerCreateOptions['HostConfig']>['Mounts']> = [];
  // Labels on the mount: should the volume be gone (pruned), Docker creates it again labelled, so
  // `pycage prune` still finds it.
  const volumeOptions = { NoCopy: true, Labels: { [labelKeys.pycage]: 'true' }, DriverConfig: { Name: 'local', Options: {} } };
  if (settings.environment !== undefined) {
    mounts.push({ Type: 'volume', Source: settings.environment.volume, Target: environmentPath(settings.environment.key), ReadOnly: true, VolumeOptions: volumeOptions });
  }
  if (settings.install !== undefined) {
    tmpfs[environmentPath(settings.install.key)] = tmpfsOptions(settings.install.limitBytes, 'readable');
    mounts.push({ Type: 'volume', Source: settings.install.volume, Target: storeMountPath, ReadOnly: false, VolumeOptions: volumeOptions });
  }
  const options: ContainerCreateOptions = {
    Image: settings.image,
    Entrypoint: ['python3', '-I', '-S', '-c', keeper],
    Cmd: settings.network === 'public' ? [String(proxyPort)] : [],
    User: keeperUser,
    // The keeper is root without CAP_DAC_OVERRIDE: it cannot enter the sandbox user's 0700 /work.
    WorkingDir: '/',
    Env: toEnvList({ PATH: settings.imagePath, LANG: 'C.UTF-8' }),
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
      // For the keeper and reap.py only (KILL to reap, SETUID and SETGID to start the script as the
      // sandbox user): processes of the sandbox user get no capabilities at all.
      CapAdd: ['KILL', 'SETGID', 'SETUID'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Tmpfs: tmpfs,
      Memory: settings.memoryBytes,
      MemorySwap: settings.memoryBytes,
      NanoCpus: Math.round(settings.cpus * 1e9),
      PidsLimit: settings.pidsLimit,
      // `public` reaches the outside only through the egress tunnel on the lifeline: the container
      // itself has no network but loopback. `open` is Docker's plain bridge, when asked for.
      NetworkMode: settings.network === 'open' ? 'bridge' : 'none',
      Mounts: mounts,
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
