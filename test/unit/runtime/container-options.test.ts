import { describe, expect, it } from 'vitest';
import {
  baseEnvironment,
  poolKey,
  sandboxCreateOptions,
  sleeperSource,
  volumeOwnerCreateOptions,
  type SandboxSettings,
} from '../../../src/runtime/container-options.js';

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
  environmentVolume: 'pycage-envs',
  environmentsWritable: false,
};
const labels = { pycage: 'true', 'pycage.role': 'run' };

describe('sandboxCreateOptions', () => {
  const options = sandboxCreateOptions(settings, labels, 'pycage-abc-run-1');
  const host = options.HostConfig!;

  it('runs as the numeric sandbox user with no capabilities and no way to gain any', () => {
    expect(options.User).toBe('10001:10001');
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toBeUndefined();
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Privileged).toBe(false);
  });

  it('has a read-only root, size-limited tmpfs for /tmp and /work, and an init', () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Init).toBe(true);
    expect(host.Tmpfs).toEqual({
      '/tmp': `rw,nosuid,nodev,size=${64 * 1024 * 1024},mode=1777`,
      '/work': `rw,nosuid,nodev,size=${128 * 1024 * 1024},uid=10001,gid=10001,mode=0700`,
    });
    expect(options.WorkingDir).toBe('/work');
  });

  it('limits memory with no swap, CPU and pids', () => {
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.MemorySwap).toBe(512 * 1024 * 1024);
    expect(host.NanoCpus).toBe(1_500_000_000);
    expect(host.PidsLimit).toBe(256);
  });

  it('mounts nothing of the host: only the environment volume, read-only', () => {
    expect(host.Binds).toEqual([]);
    expect(host.Devices).toEqual([]);
    expect(host.Mounts).toEqual([{ Type: 'volume', Source: 'pycage-envs', Target: '/opt/pycage/envs', ReadOnly: true }]);
    expect(JSON.stringify(options)).not.toContain('docker.sock');
  });

  it('starts with a minimal environment and none of the host one', () => {
    expect(options.Env).toEqual([
      'PATH=/usr/local/bin:/usr/bin:/bin',
      'HOME=/work',
      'LANG=C.UTF-8',
      'PYTHONUNBUFFERED=1',
      'PYTHONDONTWRITEBYTECODE=1',
      'MPLBACKEND=Agg',
      'PYCAGE_OUTPUT_DIR=/work/output',
    ]);
    expect(baseEnvironment('/p').PATH).toBe('/p');
  });

  it('holds a lifeline: a sleeper on stdin, attached, closed with its one client, removed when it stops', () => {
    expect(options.Entrypoint).toEqual(['python3', '-I', '-S', '-c', sleeperSource]);
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

  it('selects no network and gVisor when asked, and a writable volume for installs', () => {
    const other = sandboxCreateOptions({ ...settings, network: 'none', gvisor: true, environmentsWritable: true }, labels);
    expect(other.HostConfig!.NetworkMode).toBe('none');
    expect(other.NetworkDisabled).toBe(true);
    expect(other.HostConfig!.Runtime).toBe('runsc');
    expect(other.HostConfig!.Mounts![0]!.ReadOnly).toBe(false);
    expect(other.name).toBeUndefined();
  });
});

describe('volumeOwnerCreateOptions', () => {
  it('runs as root with CAP_CHOWN alone, no network, read-only root', () => {
    const options = volumeOwnerCreateOptions({ image: 'sha256:0123', imagePath: '/usr/bin', environmentVolume: 'pycage-envs' }, labels);
    expect(options.User).toBe('0:0');
    expect(options.HostConfig!.CapDrop).toEqual(['ALL']);
    expect(options.HostConfig!.CapAdd).toEqual(['CHOWN']);
    expect(options.HostConfig!.SecurityOpt).toEqual(['no-new-privileges']);
    expect(options.HostConfig!.ReadonlyRootfs).toBe(true);
    expect(options.HostConfig!.NetworkMode).toBe('none');
    expect(options.HostConfig!.Mounts).toEqual([{ Type: 'volume', Source: 'pycage-envs', Target: '/opt/pycage/envs', ReadOnly: false }]);
    const script = (options.Entrypoint as string[]).at(-1)!;
    expect(script.indexOf('chmod')).toBeLessThan(script.indexOf('chown'));
    expect(script).toContain('10001, 10001');
  });
});

describe('poolKey', () => {
  it('is equal for equal settings and differs for anything fixed at creation', () => {
    const key = poolKey(settings);
    expect(poolKey({ ...settings })).toBe(key);
    const variants: Array<Partial<SandboxSettings>> = [
      { image: 'sha256:other' },
      { network: 'none' },
      { memoryBytes: 1 },
      { cpus: 2 },
      { pidsLimit: 1 },
      { gvisor: true },
      { tmpBytes: 1 },
      { workBytes: 1 },
      { environmentVolume: 'other' },
      { environmentsWritable: true },
    ];
    for (const variant of variants) expect(poolKey({ ...settings, ...variant })).not.toBe(key);
  });
});
