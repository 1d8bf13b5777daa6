/**
 * Real Docker state for assertions: which pycage containers exist. Uses the docker CLI, not
 * dockerode, so the check does not share code with what it checks.
 */
import { execFileSync } from 'node:child_process';

/** Names/ids of containers carrying pycage's label, optionally only those of one owner process. */
export function pycageContainers(filter: { ownerPid?: number; session?: string } = {}): string[] {
  const args = ['ps', '-a', '--filter', 'label=pycage=true', '--format', '{{.ID}}'];
  if (filter.ownerPid !== undefined) args.push('--filter', `label=pycage.owner-pid=${filter.ownerPid}`);
  if (filter.session !== undefined) args.push('--filter', `label=pycage.session=${filter.session}`);
  const output = execFileSync('docker', args, { encoding: 'utf8' });
  return output.split('\n').filter((line) => line.trim() !== '');
}

/** Waits until `check` is true, polling; Docker removes containers asynchronously. */
export async function eventually(check: () => boolean, timeoutMs = 15_000, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}
