/**
 * Where a batch of runs spends the machine's CPU, read from /proc and the cgroup tree: the Docker
 * daemon, containerd, the per-container shims and runc (reaped by pid 1, so counted in its children's
 * time once they exit), the containers' own processes (the `docker` cgroup), and this Node process.
 * Linux with a local daemon and cgroup v1's cpuacct (or v2's `docker` group) only; `undefined` where
 * something cannot be read. Other processes on the machine (other users' containers) count too: read
 * figures as medians of many samples, with the load beside them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** Milliseconds of CPU, user + system, since each counter began. */
  dockerd: number;
  containerd: number;
  shims: number;
  containers: number;
  client: number;
  /** The whole machine's busy time. */
  machine: number;
}

export const cpuParts = ['dockerd', 'containerd', 'shims', 'containers', 'client', 'machine'] as const;

const ticksPerMs = 100 / 1000;

function pidOf(name: string): string | undefined {
  try {
    return execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime (own) or cutime + cstime (reaped children) of a process, in ms. */
function processMs(pid: string, children: boolean): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const [user, system] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
  return (Number(user) + Number(system)) / ticksPerMs;
}

function containersMs(): number {
  try {
    return Number(readFileSync('/sys/fs/cgroup/cpuacct/docker/cpuacct.usage', 'utf8')) / 1e6;
  } catch {
    const stat = readFileSync('/sys/fs/cgroup/docker/cpu.stat', 'utf8');
    return Number(/usage_usec (\d+)/.exec(stat)![1]) / 1000;
  }
}

function machineMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const busy = fields.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return busy / ticksPerMs;
}

/** A snapshot, or undefined when this machine does not offer the counters. */
export function cpuSnapshot(): CpuSnapshot | undefined {
  const dockerd = pidOf('dockerd');
  const containerd = pidOf('containerd');
  if (dockerd === undefined || containerd === undefined) return undefined;
  try {
    const usage = process.cpuUsage();
    return {
      dockerd: processMs(dockerd, false),
      containerd: processMs(containerd, false),
      shims: processMs('1', true),
      containers: containersMs(),
      client: (usage.user + usage.system) / 1000,
      machine: machineMs(),
    };
  } catch {
    return undefined;
  }
}

/** Per-part milliseconds between two snapshots, divided by `count` (runs). */
export function cpuPerRun(before: CpuSnapshot, after: CpuSnapshot, count: number): CpuSnapshot {
  const per = {} as CpuSnapshot;
  for (const part of cpuParts) per[part] = (after[part] - before[part]) / count;
  return per;
}
