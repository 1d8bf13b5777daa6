/**
 * What the figures were measured on, printed at the top of every benchmark run: without the machine
 * (cores, memory, Docker, kernel) and how busy it was, a ratio means little.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  node: string;
  docker: string;
  image: string;
  imageId: string;
  /** Containers running on the daemon that are not this process's (someone else's load). */
  foreignContainers: number;
  loadAverage: number[];
}

function dockerOutput(args: string[]): string {
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `unknown (${result.stderr.trim() || result.error?.message})`;
}

/** The 1, 5 and 15 minute load averages, to two decimals. */
export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

export function describeMachine(image: string): Machine {
  const running = dockerOutput(['ps', '--format', '{{.Label "pycage.owner-pid"}}']).split('\n').filter((line) => line !== '');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    docker: dockerOutput(['version', '--format', '{{.Server.Version}}']),
    image,
    imageId: dockerOutput(['image', 'inspect', '--format', '{{.Id}}', image]).slice(7, 19),
    foreignContainers: running.filter((ownerPid) => ownerPid !== String(process.pid)).length,
    loadAverage: loadAverage(),
  };
}

export function formatMachine(machine: Machine): string {
  return [
    `machine: ${machine.cpus} cores (${machine.cpuModel}), ${(machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ${machine.kernel}`,
    `         Node ${machine.node}, Docker ${machine.docker}, image ${machine.image} (${machine.imageId})`,
    `         load average ${machine.loadAverage.join(' ')}, other containers running: ${machine.foreignContainers}`,
  ].join('\n');
}
