/**
 * Labels put on every container and volume pycage makes. They are how cleanup finds its own things
 * among everyone else's on a shared engine: `close()` by session, the start-up sweep by host and dead
 * owner pid, `prune()` by `pycage=true`.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';

export const labelKeys = {
  pycage: 'pycage',
  role: 'pycage.role',
  session: 'pycage.session',
  ownerPid: 'pycage.owner-pid',
  ownerHost: 'pycage.owner-host',
  created: 'pycage.created',
  pool: 'pycage.pool',
  /** On an environment's volume: the environment key. */
  environment: 'pycage.environment',
} as const;

/** What a container is for: a script's run, an environment install, or a one-off image probe. */
export type ContainerRole = 'run' | 'install' | 'probe';

/** One id per Runtime, short enough to read in `docker ps`. */
export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

export interface LabelInput {
  role: ContainerRole;
  session: string;
  /** @default process.pid */
  ownerPid?: number;
  /** @default os.hostname() */
  ownerHost?: string;
  /** @default now */
  created?: Date;
  /** Pool key, for containers made by the warm pool. */
  pool?: string;
}

export function containerLabels(input: LabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    [labelKeys.pycage]: 'true',
    [labelKeys.role]: input.role,
    [labelKeys.session]: input.session,
    [labelKeys.ownerPid]: String(input.ownerPid ?? process.pid),
    [labelKeys.ownerHost]: input.ownerHost ?? os.hostname(),
    [labelKeys.created]: (input.created ?? new Date()).toISOString(),
  };
  if (input.pool !== undefined) labels[labelKeys.pool] = input.pool;
  return labels;
}

/** Labels of things that outlive a session (the environment volume, built images). */
export function sharedLabels(): Record<string, string> {
  return { [labelKeys.pycage]: 'true', [labelKeys.created]: new Date().toISOString() };
}

/** Docker list filter for everything pycage made, optionally narrowed to one session. */
export function labelFilter(session?: string): { label: string[] } {
  const label = [`${labelKeys.pycage}=true`];
  if (session !== undefined) label.push(`${labelKeys.session}=${session}`);
  return { label };
}

/**
 * Whether the start-up sweep may remove a container: made on this host by a process that is gone.
 * A container from another host is never touched (its owner may be alive there), nor one whose owner
 * pid is alive here (even if the pid was reused: leaving a container is better than killing a live run).
 */
export function isOrphan(
  labels: Record<string, string> | undefined,
  options: { hostname: string; isAlive: (pid: number) => boolean },
): boolean {
  if (labels === undefined || labels[labelKeys.pycage] !== 'true') return false;
  if (labels[labelKeys.ownerHost] !== options.hostname) return false;
  const pid = Number(labels[labelKeys.ownerPid]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  return !options.isAlive(pid);
}

/** `process.kill(pid, 0)`: EPERM means it exists but is someone else's, so it counts as alive. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
