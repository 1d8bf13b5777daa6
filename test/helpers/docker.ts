/**
 * Real Docker state for assertions: which pycage containers exist. Uses the docker CLI, not
 * dockerode, so the check does not share code with what it checks.
 */
import { execFileSync } from 'node:child_process';
import { waitFor } from './wait.js';

/** Ids of containers (running or not) carrying every one of these labels, e.g. `pycage.session=abc`. */
export function containersWith(...labels: string[]): string[] {
  const filters = labels.flatMap((label) => ['--filter', `label=${label}`]);
  const output = execFileSync('docker', ['ps', '-a', ...filters, '--format', '{{.ID}}'], { encoding: 'utf8' });
  return output.split('\n').filter((line) => line.trim() !== '');
}

/** Names/ids of containers carrying pycage's label, optionally only those of one owner process. */
export function pycageContainers(filter: { ownerPid?: number; session?: string } = {}): string[] {
  const labels = ['pycage=true'];
  if (filter.ownerPid !== undefined) labels.push(`pycage.owner-pid=${filter.ownerPid}`);
  if (filter.session !== undefined) labels.push(`pycage.session=${filter.session}`);
  return containersWith(...labels);
}

/**
 * Waits until exactly `count` pycage containers match `filter`: Docker removes a container a moment
 * after it is let go, so "none left" is a state reached, not one to look at once. Fails listing them.
 */
export async function waitForContainerCount(filter: { ownerPid?: number; session?: string }, count = 0): Promise<void> {
  const owner = [filter.ownerPid === undefined ? '' : ` of process ${filter.ownerPid}`, filter.session === undefined ? '' : ` of session ${filter.session}`].join('');
  await waitFor(() => pycageContainers(filter).length === count, `${count} pycage container(s)${owner}`, {
    state: () => `there are ${pycageContainers(filter).join(', ') || 'none'}`,
  });
}

/** Names of the volumes whose names start with `prefix-` (an environment cache: one volume per environment). */
export function volumesWithPrefix(prefix: string): string[] {
  const output = execFileSync('docker', ['volume', 'ls', '-q', '--filter', `name=^${prefix}-`], { encoding: 'utf8' });
  return output.split('\n').filter((line) => line.startsWith(`${prefix}-`));
}

/** Removes every volume of an environment cache (the volumes of one prefix). */
export function removeVolumesWithPrefix(prefix: string): void {
  const volumes = volumesWithPrefix(prefix);
  if (volumes.length > 0) execFileSync('docker', ['volume', 'rm', '-f', ...volumes], { encoding: 'utf8' });
}

/**
 * The address of the host on Docker's default bridge (its gateway), where a server the test starts
 * can be reached from a container. Docker may leave `Gateway` out of the network's IPAM config; the
 * bridge's gateway is then, by Docker's convention, the first address of its subnet.
 */
export function dockerBridgeGateway(): string {
  const output = execFileSync('docker', ['network', 'inspect', 'bridge', '--format', '{{json .IPAM.Config}}'], { encoding: 'utf8' });
  const config = JSON.parse(output) as Array<{ Subnet?: string; Gateway?: string }>;
  const ipv4 = config.find((entry) => entry.Subnet !== undefined && /^\d+\.\d+\.\d+\.\d+\//.test(entry.Subnet));
  if (ipv4?.Gateway !== undefined && ipv4.Gateway !== '') return ipv4.Gateway;
  if (ipv4?.Subnet === undefined) throw new Error(`the bridge network has no IPv4 subnet: ${output}`);
  const octets = (ipv4.Subnet.split('/')[0] ?? '').split('.').map(Number);
  octets[3] = (octets[3] ?? 0) + 1;
  return octets.join('.');
}
