/**
 * `pycage run <file | -> [run options] [-- args]`: runs a script the user already has in the sandbox,
 * with its requirements inferred (or given), its output streamed live and the design's exit codes.
 */
import { AbortedError, ExitCode, PolicyError, UsageError } from '../../errors.js';
import type { RunResult } from '../../runtime/index.js';
import type { ParsedCommand } from '../args.js';
import { readSource } from '../input.js';
import { isInteractive, type CliIo } from '../io.js';
import { findLocalModules } from '../local-modules.js';
import { oneShotRuntime } from '../one-shot.js';
import type { Reporter } from '../reporter.js';
import { describeArtifacts, describeBlocked, describeSettings, localWarning, openNetworkWarning, packageSourceFrom, reportRuntimeEvent, runOptionsFrom, summarizeRun } from '../runtime-setup.js';
import { flushOutput, printJson, writeOutput } from '../output.js';
import { readUserFiles } from '../user-files.js';

export default async function run(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const { flags } = parsed;
  if (parsed.positionals.length === 0) throw new UsageError('Give the script to run: pycage run <file.py | -> [-- args]');
  if (parsed.positionals.length > 1) {
    throw new UsageError(`pycage run takes one script; put arguments for it after \`--\`: pycage run ${parsed.positionals[0]} -- ${parsed.positionals.slice(1).join(' ')}`);
  }
  const source = await readSource(io, parsed.positionals[0], 'a Python script', { python: true });
  const userFiles = await readUserFiles({ paths: flags.files, cwd: io.cwd });
  for (const name of userFiles.skipped) reporter.warn(`--file: left out ${name} (a symbolic link or special file; links are not followed)`);

  const { runtime, interrupts, close } = oneShotRuntime(flags, io, reporter, 'Stopping the run...');
  try {
    reporter.status('Starting the sandbox', { brief: true });
    const info = await runtime.start({ abortSignal: interrupts.signal });
    reporter.done();
    if (!info.isolated) reporter.warn(localWarning(flags, 'the script'));
    else if (info.network === 'open') reporter.warn(openNetworkWarning);
    if (flags.verbose) reporter.info(describeSettings(info));

    const local = await findLocalModules(source.text, source.path);
    let requirements: readonly string[] | 'none';
    let packages: unknown[] | undefined;
    if (flags.requirements === 'none') requirements = 'none';
    else if (Array.isArray(flags.requirements)) {
      const { checkRequirements } = await import('../../requirements/index.js');
      checkRequirements(flags.requirements, { origin: '--requirements', allowUrlRequirements: flags.allowUrlRequirements });
      requirements = flags.requirements;
    } else {
      reporter.status('Reading imports', { brief: true });
      const { requirementsForScript } = await import('../../requirements/index.js');
      const inferred = await requirementsForScript({
        code: source.text,
        author: 'user',
        pythonVersion: info.pythonVersion,
        // The runtime's own package source (--index-url, --find-links, --no-index), from the flags: its
        // describe() masks the index credentials, which pinning needs.
        packageSource: packageSourceFrom(flags, io),
        policy: flags,
        localModules: local.names,
        abortSignal: interrupts.signal,
        logger: reporter.logSink,
      });
      reporter.done();
      for (const warning of inferred.warnings) reporter.warn(warning);
      requirements = inferred.requirements;

      // The package gate: an import nothing vouches for is installed only after a yes.
      const flagged = inferred.refused;
      if (flagged.length > 0) {
        for (const entry of flagged) reporter.warn(`FLAGGED ${entry.message}`);
        const names = flagged.map((entry) => entry.name).join(', ');
        let approved = false;
        if (isInteractive(io) && !flags.yes) {
          const clack = await reporter.prompts();
          reporter.pause();
          const answer = await clack.confirm({ message: `Install ${names} (FLAGGED above) and run it?`, initialValue: false, input: io.stdin, output: io.stderr, signal: interrupts.signal });
          if (clack.isCancel(answer)) throw new AbortedError('Cancelled; nothing was run.');
          if (!answer) {
            reporter.error('Not run.');
            return ExitCode.failure;
          }
          approved = true;
        }
        if (!approved) {
          const message = `Refused, nothing was installed: ${flagged.map((entry) => entry.message).join(' ')}`;
          if (!flags.json) throw new PolicyError(message, { refused: flagged.map((entry) => entry.name) });
          reporter.error(message);
          printJson(io, { file: source.label, status: 'refused', exitCode: ExitCode.policy, packages: inferred.details, refused: flagged, error: { name: 'PolicyError', message, traceback: '' } });
          return ExitCode.policy;
        }
      }
      if (flags.json) packages = inferred.details;
    }
    if (requirements !== 'none' && requirements.length > 0) reporter.info(`Requirements: ${requirements.join(', ')}`);

    let result: RunResult;
    try {
      result = await runtime.runScript(source.text, {
        requirements,
        args: parsed.scriptArgs,
        // The user's --file data wins over a sibling module of the same name: it was named.
        files: { ...local.files, ...userFiles.files },
        ...runOptionsFrom(flags, io),
        // A spinner is stopped first: a failed install's log arrives while "Installing" still turns.
        ...(flags.json
          ? {}
          : {
              onStdout: (text: string) => {
                reporter.pause();
                writeOutput(io.stdout, text);
              },
              onStderr: (text: string) => {
                reporter.pause();
                writeOutput(io.stderr, text);
              },
            }),
        onEvent: (event) => reportRuntimeEvent(event, reporter),
        abortSignal: interrupts.signal,
      });
    } catch (error) {
      if (interrupts.received !== undefined) throw new AbortedError('Cancelled; the run was stopped.', { cause: error });
      throw error;
    } finally {
      flushOutput(io.stdout);
      flushOutput(io.stderr);
    }
    if (interrupts.received !== undefined) throw new AbortedError('Cancelled; the run was stopped.');

    if (flags.json) printJson(io, { file: source.label, ...result, ...(packages === undefined ? {} : { packages }) });
    else {
      const artifacts = describeArtifacts(result, io.cwd);
      if (artifacts !== undefined) reporter.success(artifacts);
      const blocked = describeBlocked(result);
      if (blocked !== undefined) reporter.warn(blocked);
      if (result.exitCode !== 0) reporter.error(summarizeRun(result, info.timeoutMs));
      else if (reporter.fancy || flags.verbose) reporter.success(summarizeRun(result, info.timeoutMs));
    }
    // Already the contract's status: 124 for a timeout, 137 for the memory limit.
    return result.exitCode;
  } finally {
    await close();
  }
}
