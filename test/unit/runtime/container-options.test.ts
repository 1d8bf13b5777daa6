import { describe, expect, it } from 'vitest';
import {
  baseEnvironment,
  environmentPath,
  poolKey,
  proxyEnvironment,
  sandboxCreateOptions,
  sandboxUid,
  type SandboxSettings,
} from '../../../src/runtime/docker/container-options.js';
import { loadPythonSource } from '../../../src/runtime/python/sources.js';

const settings: SandboxSettings = {
  image: 'sha256:0123',
  imagePath: '/usr/local/bin:/usr/bin:/bin',
  network: 'open',
  memoryBytes: 512 * 1024 * 1024,
  cpus: 1.5,
  pidsLimit: 256,
  gvisor: false,
  tmpBytes: 64 * 1024 * 1024,
  workBytes: 128 * 1024 * 1024,
};
const labels = { pycage: 'true', 'pycage.role': 'run' };
const keeper = '# keeper source';

describe('sandboxCreateOptions', () => {
  const options = sandboxCreateOptions(settings, labels, keeper, 'pycage-abc-run-1');
  const host = options.HostConfig!;

  it('runs its keeper as root with CAP_KILL, CAP_SETUID and CAP_SETGID alone and no way to gain more (scripts run as 10001, started by the keeper)', () => {
    expect(options.User).toBe('0:0');
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(['KILL', 'SETGID', 'SETUID']);
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Privileged).toBe(false);
  });

  it('has the keeper start scripts as the same sandbox uid as everything else', async () => {
    expect(await loadPythonSource('keeper')).toContain(`\nSANDBOX_UID = ${sandboxUid}\n`);
  });

  it('has a read-only root, size-limited tmpfs for /tmp and /work, and an init', () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Init).toBe(true);
    expect(host.Tmpfs).toEqual({
      '/tmp': `rw,nosuid,nodev,size=${64 * 1024 * 1024},mode=1777`,
      '/work': `rw,nosuid,nodev,size=${128 * 1024 * 1024},uid=10001,gid=10001,mode=0700`,
    });
    // Root without CAP_DAC_OVERRIDE cannot enter the sandbox user's /work.
    expect(options.WorkingDir).toBe('/');
  });

  it('limits memory with no swap, CPU and pids', () => {
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.MemorySwap).toBe(512 * 1024 * 1024);
    expect(host.NanoCpus).toBe(1_500_000_000);
    expect(host.PidsLimit).toBe(256);
  });

  it('mounts nothing of the host, and no environment unless the run uses one', () => {
    expect(host.Binds).toEqual([]);
    expect(host.Devices).toEqual([]);
    expect(host.Mounts).toEqual([]);
    expect(JSON.stringify(options)).not.toContain('docker.sock');
  });

  it("mounts a run's own environment volume read-only at its path, and no other", () => {
    const run = sandboxCreateOptions({ ...settings, environment: { key: 'abc', volume: 'pycage-env-abc' } }, labels, keeper);
    expect(run.HostConfig!.Mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Source: 'pycage-env-abc', Target: environmentPath('abc'), ReadOnly: true }),
    ]);
  });

  it('gives an install a size-limited tmpfs at the environment path and its volume where only root writes', () => {
    const install = sandboxCreateOptions({ ...settings, install: { key: 'abc', volume: 'pycage-env-abc', limitBytes: 1024 * 1024 * 1024 } }, labels, keeper);
    expect(install.HostConfig!.Tmpfs![environmentPath('abc')]).toBe(`rw,nosuid,nodev,size=${1024 * 1024 * 1024},uid=10001,gid=10001,mode=0755`);
    expect(install.HostConfig!.Mounts).toEqual([
      expect.objectContaining({ Type: 'volume', Source: 'pycage-env-abc', Target: '/opt/pycage/store', ReadOnly: false }),
    ]);
  });

  it('starts with a minimal environment and none of the host one', () => {
    expect(options.Env).toEqual(['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8']);
    expect(baseEnvironment('/p')).toEqual({
      PATH: '/p',
      HOME: '/work',
      LANG: 'C.UTF-8',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      MPLBACKEND: 'Agg',
      PYCAGE_OUTPUT_DIR: '/work/output',
    });
  });

  it('holds a lifeline: the keeper on stdin, attached, closed with its one client, removed when it stops', () => {
    expect(options.Entrypoint).toEqual(['python3', '-I', '-S', '-c', keeper]);
    expect(options.Cmd).toEqual([]);
    expect(options.OpenStdin).toBe(true);
    expect(options.StdinOnce).toBe(true);
    expect(options.AttachStdin).toBe(true);
    expect(options.Tty).toBe(false);
    expect(host.AutoRemove).toBe(true);
  });

  it('carries its labels, name, image and network', () => {
    expect(options.Labels).toBe(labels);
    expect(options.name).toBe('pycage-abc-run-1');
    expect(options.Image).toBe('sha256:0123');
    expect(host.NetworkMode).toBe('bridge');
    expect(options.NetworkDisabled).toBe(false);
    expect(host.Runtime).toBeUndefined();
  });

  it('has no network interface under public (the keeper tunnels on its proxy port) or none, and gVisor when asked', () => {
    const publicOptions = sandboxCreateOptions({ ...settings, network: 'public' }, labels, keeper);
    expect(publicOptions.HostConfig!.NetworkMode).toBe('none');
    expect(publicOptions.NetworkDisabled).toBe(true);
    expect(publicOptions.Cmd).toEqual(['3128']);
    const other = sandboxCreateOptions({ ...settings, network: 'none', gvisor: true }, labels, keeper);
    expect(other.HostConfig!.NetworkMode).toBe('none');
    expect(other.NetworkDisabled).toBe(true);
    expect(other.Cmd).toEqual([]);
    expect(other.HostConfig!.Runtime).toBe('runsc');
    expect(other.name).toBeUndefined();
  });

  it('points every proxy variable at the tunnel, keeping only the script loopback direct', () => {
    expect(proxyEnvironment(true)).toMatchObject({ HTTP_PROXY: 'http://127.0.0.1:3128', https_proxy: 'http://127.0.0.1:3128', NO_PROXY: 'localhost,127.0.0.1,::1' });
    expect(proxyEnvironment(false).NO_PROXY).toBeUndefined();
  });
});

describe('poolKey', () => {
  it('is equal for equal settings and differs for anything fixed at creation', () => {
    const key = poolKey(settings);
    expect(poolKey({ ...settings })).toBe(key);
    const variants: Array<Partial<SandboxSettings>> = [
      { image: 'sha256:other' },
      { network: 'none' },
      { network: 'public' },
      { memoryBytes: 1 },
      { cpus: 2 },
      { pidsLimit: 1 },
      { gvisor: true },
      { tmpBytes: 1 },
      { workBytes: 1 },
      { environment: { key: 'k', volume: 'v' } },
      { install: { key: 'k', volume: 'v', limitBytes: 1 } },
    ];
    for (const variant of variants) expect(poolKey({ ...settings, ...variant })).not.toBe(key);
  });
});
