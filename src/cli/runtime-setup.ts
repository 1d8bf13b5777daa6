/**
 * Turns run flags into runtime and run options, and runtime results and events into what the user
 * sees: the settings in force, progress for image builds and installs, and the one-line outcome of a
 * run. A run's own `exitCode` is already the exit status the design's contract gives it (124 for a
 * timeout, 137 for the memory limit: see src/runtime/result.ts).
 */
import path from 'node:path';
import { plainHttpHost } from '../index-url.js';
import type { PackageSource } from '../requirements/index.js';
import type { RunOptions, RunResult, RuntimeEvent, RuntimeInfo, RuntimeOptions } from '../runtime/index.js';
import { blockedConnections, displayName, imageFromEnvironment, runtimeDefaults } from '../runtime/index.js';

import type { CliFlags } from './args.js';
import type { CliIo } from './io.js';
import { formatBytes, formatDuration, type Reporter } from './reporter.js';

/** Where packages come from, for pinning on the host; the runtime gets the same for installing. */
export function packageSourceFrom(flags: CliFlags, io: CliIo): PackageSource {
  const source: PackageSource = {};
  if (flags.indexUrl !== undefined) source.indexUrl = flags.indexUrl;
  if (flags.findLinks !== undefined) source.findLinks = path.resolve(io.cwd, flags.findLinks);
  if (flags.noIndex) source.noIndex = true;
  return source;
}

/**
 * @param extra runtime settings a command chooses itself: one-shot commands keep a pool of one (a
 * retry still finds a warm container), the session keeps the runtime's default.
 */
export function runtimeOptionsFrom(flags: CliFlags, io: CliIo, reporter: Reporter, extra: Pick<RuntimeOptions, 'poolSize'> = {}): RuntimeOptions {
  const options: RuntimeOptions = { isolate: !flags.local, ...packageSourceFrom(flags, io), ...extra };
  const image = flags.image ?? imageFromEnvironment(io.env);
  if (image !== undefined) options.image = image;
  if (flags.network !== undefined) options.network = flags.network;
  if (flags.allowHosts.length > 0) options.allowHosts = flags.allowHosts;
  if (flags.allowUrlRequirements) options.allowUrlRequirements = true;
  if (flags.allowSdist) options.allowSdist = true;
  if (flags.allowPackages.length > 0) options.allowPackages = flags.allowPackages;
  if (flags.minReleaseAgeDays !== undefined) options.minReleaseAgeDays = flags.minReleaseAgeDays;
  if (flags.memoryBytes !== undefined) options.memoryBytes = flags.memoryBytes;
  if (flags.cpus !== undefined) options.cpus = flags.cpus;
  if (flags.timeoutMs !== undefined) options.timeoutMs = flags.timeoutMs;
  if (flags.gvisor) options.gvisor = true;
  const sink = reporter.logSink;
  if (sink !== undefined) options.logger = sink;
  return options;
}

/** `--network open` is allowed only when asked for, and said out loud: it undoes the egress policy. */
export const openNetworkWarning =
  "--network open: the script gets Docker's plain bridge network and can reach this machine, the local network and other containers. Use the default (public) with --allow-host for what it needs.";

/** The warning --local deserves: nothing is isolated, and the limits it cannot enforce are named. */
export function localWarning(flags: CliFlags, what: string): string {
  const ignored = [
    flags.memoryBytes === undefined ? undefined : '--memory',
    flags.cpus === undefined ? undefined : '--cpus',
    flags.network === undefined ? undefined : '--network',
    flags.image === undefined ? undefined : '--image',
  ].filter((flag) => flag !== undefined);
  const notEnforced = ignored.length === 0 ? '' : ` ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} not enforced there.`;
  return `--local: ${what} runs on this machine, with no sandbox; only the timeout and the output cap apply.${notEnforced}`;
}

/**
 * Per-run options that come from flags: where artifacts land (`./output` unless --output DIR or
 * --no-output) and the network (stated even when it is the default, so the model can be told).
 */
export function runOptionsFrom(flags: CliFlags, io: CliIo): Pick<RunOptions, 'outputDir' | 'network'> {
  const options: Pick<RunOptions, 'outputDir' | 'network'> = { network: flags.network ?? runtimeDefaults.network };
  if (!flags.noOutput) options.outputDir = path.resolve(io.cwd, flags.output ?? 'output');
  return options;
}

/**
 * The settings that matter for safety and limits, on one line. An `http://` index is named, since the
 * installer is told to trust its host: nothing protects what it serves on the way.
 */
export function describeSettings(info: RuntimeInfo): string {
  const index = indexNote(info);
  if (!info.isolated) {
    return [`NOT ISOLATED: runs on this machine with Python ${info.pythonVersion}`, `timeout ${formatDuration(info.timeoutMs)}`, ...index].join(' · ');
  }
  return [
    `image ${info.image} (Python ${info.pythonVersion}, ${info.installer})`,
    `network ${info.network}${info.gvisor ? ' · gVisor' : ''}`,
    `memory ${formatBytes(info.memoryBytes)} (no swap)`,
    `${info.cpus} CPU${info.cpus === 1 ? '' : 's'}`,
    `timeout ${formatDuration(info.timeoutMs)}`,
    ...index,
  ].join(' · ');
}

function indexNote(info: RuntimeInfo): string[] {
  const { indexUrl, noIndex } = info.packageSource;
  const host = indexUrl === undefined || noIndex === true ? undefined : plainHttpHost(indexUrl);
  return host === undefined ? [] : [`index over plain HTTP: ${host}`];
}

/** Shows runtime progress; when the script is about to start, stops any spinner before its output. */
export function reportRuntimeEvent(event: RuntimeEvent, reporter: Reporter): void {
  switch (event.type) {
    case 'image-build':
      reporter.status(`Building the sandbox image (first use only): ${truncate(event.line.trim(), 60)}`);
      return;
    case 'image-ready':
      if (event.built) reporter.done(`Image ${event.image} built`);
      return;
    case 'install-start':
      reporter.status(`Installing ${event.requirements.join(', ')}`);
      return;
    case 'install-done':
      reporter.done(
        event.reused
          ? `Packages already installed (cached environment reused)`
          : `Installed with ${event.installer} in ${formatDuration(event.durationMs)}`,
      );
      return;
    case 'run-start':
      reporter.pause();
      return;
    // The runtime infers requirements (and says so) only for `requirements: 'auto'`; the CLI always
    // passes a list or 'none', having resolved and shown them itself.
    case 'requirements':
    case 'run-end':
    // The warm pool at rest: nothing for the user to see.
    case 'pool-ready':
      return;
  }
}

/** One line on how a run ended, for the user (not for --json). */
export function summarizeRun(result: RunResult, timeoutMs?: number): string {
  const duration = formatDuration(result.durationMs);
  let summary: string;
  if (result.timedOut) summary = `Stopped: the script ran past its time limit${timeoutMs === undefined ? '' : ` of ${formatDuration(timeoutMs)}`} (exit 124)`;
  else if (result.oomKilled) summary = 'Stopped: the script ran out of memory (exit 137)';
  else if (result.error?.name === 'InstallError') summary = `The packages could not be installed: ${truncate(result.error.message, 160)} (exit ${result.exitCode})`;
  else if (result.exitCode === 0) summary = `Exit 0 in ${duration}`;
  else summary = `Exit ${result.exitCode} in ${duration}${result.error === undefined ? '' : `: ${result.error.name}: ${truncate(result.error.message, 120)}`}`;
  if (result.outputTruncated) summary += ' · output cut at the size limit';
  return summary;
}

/**
 * The files a run left for the user, one per line, as paths relative to where the user is, and the
 * ones refused (a dot-name, a link). Names come from the sandbox: control characters are escaped so
 * a name cannot move the cursor or rewrite the screen.
 */
export function describeArtifacts(result: RunResult, cwd: string): string | undefined {
  const kept = result.artifacts.map((artifact) => `  ${displayName(relativeToCwd(artifact.path, cwd))} (${formatBytes(artifact.sizeBytes)})`);
  const refused = result.refusedArtifacts.map((entry) => `  ${displayName(entry.name)}: not kept (${displayName(entry.reason)})`);
  if (kept.length === 0 && refused.length === 0 && result.artifactsError === undefined) return undefined;
  const lines: string[] = [];
  if (kept.length > 0) lines.push(`Saved ${kept.length === 1 ? 'a file' : `${kept.length} files`}:`, ...kept);
  if (refused.length > 0) lines.push(`Refused ${refused.length === 1 ? 'a file' : `${refused.length} files`} the script wrote:`, ...refused);
  if (result.artifactsError !== undefined) lines.push(`The output folder could not be read: ${displayName(result.artifactsError)}`);
  return lines.join('\n');
}

/** What the network refused during a run, as the design shows it: `blocked: 169.254.169.254:80 (link-local)`. */
export function describeBlocked(result: RunResult): string | undefined {
  const blocked = blockedConnections(result);
  if (blocked.length === 0) return undefined;
  const shown = blocked.slice(0, 5).map((entry) => `${displayName(entry.host)}:${entry.port} (${displayName(entry.reason)})`);
  return `blocked: ${shown.join(', ')}${blocked.length > 5 ? `, and ${blocked.length - 5} more` : ''}`;
}

function relativeToCwd(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function truncate(text: string, length: number): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}
