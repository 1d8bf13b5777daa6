/**
 * `pycage "<request>"`: one request, start to end. The model writes the code, the user sees it with
 * its requirements and the sandbox settings, says yes (or passed --yes), and it runs with its output
 * streamed live; failures go back to the model up to --max-attempts times.
 */
import { AbortedError, UsageError } from '../../errors.js';
import { runAgent, type AgentEvent, type AgentResult, type Proposal, type ReviewDecision } from '../../agent/index.js';
import { checkDocker } from '../../runtime/index.js';
import type { ParsedCommand } from '../args.js';
import { isInteractive, type CliIo } from '../io.js';
import { oneShotRuntime } from '../one-shot.js';
import { printJson, writeOutput } from '../output.js';
import { readUserFiles } from '../user-files.js';
import type { Reporter } from '../reporter.js';
import { describeSettings, localWarning, openNetworkWarning } from '../runtime-setup.js';
import { agentJson, agentOptionsFrom, reportAgentEvent, reportAgentOutcome, showProposal } from '../agent-setup.js';
import { setUpModel } from '../model-setup.js';

export default async function request(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const { flags } = parsed;
  const requestText = parsed.positionals.join(' ').trim();
  if (requestText === '') throw new UsageError('The request is empty: say what the Python should do, e.g. pycage "print the first 10 primes".');

  // The key is checked before anything else happens (design: "before any other work").
  const model = await setUpModel(flags, io, reporter);
  const interactive = isInteractive(io);
  if (!flags.yes && !interactive) {
    throw new UsageError('Generated code runs only after a yes: on a terminal pycage asks; elsewhere pass --yes.');
  }
  const userFiles = await readUserFiles({ paths: flags.files, cwd: io.cwd });
  for (const name of userFiles.skipped) reporter.warn(`--file: left out ${name} (a symbolic link or special file; links are not followed)`);
  // Into a pipe or a file only the final attempt's output goes: a failed attempt's lines would be
  // mixed into the result. A terminal still sees every attempt live.
  const streamStdout = io.stdout.isTTY === true;

  const { runtime, interrupts, close } = oneShotRuntime(flags, io, reporter, 'Stopping...');
  let cancelledAtPrompt = false;
  let sandboxShown = false;
  try {
    // A stopped Docker daemon is reported before the model is asked anything; the sandbox then warms
    // up (image, pool) while the model thinks.
    if (!flags.local) await checkDocker();
    const started = runtime.start({ abortSignal: interrupts.signal });
    started.catch(() => undefined);
    if (flags.local) reporter.warn(localWarning(flags, 'generated code'));
    else if (flags.network === 'open') reporter.warn(openNetworkWarning);

    const review = async (proposal: Proposal): Promise<ReviewDecision> => {
      const info = await started;
      showProposal(proposal, reporter, 'Generated code');
      // Once: the settings do not change between attempts.
      if (!sandboxShown) reporter.info(`Sandbox: ${describeSettings(info)}`);
      sandboxShown = true;
      // --yes does not cover packages nobody vouches for (the package gate): only --allow-package or a person's yes.
      if (proposal.flagged.length > 0 && (flags.yes || !interactive)) return { action: 'refuse' };
      if (flags.yes) return { action: 'run' };
      const clack = await reporter.prompts();
      reporter.pause();
      const flaggedNames = proposal.flagged.map((entry) => entry.name).join(', ');
      const answer = await clack.confirm({
        message:
          proposal.flagged.length > 0
            ? `Install ${flaggedNames} (FLAGGED above) and run it?`
            : proposal.trigger === 'edited'
              ? 'Run the edited code?'
              : proposal.trigger === 'missing-module'
                ? `Install ${proposal.requirements.at(-1) ?? 'the missing package'} and run it again?`
                : 'Run it?',
        initialValue: proposal.flagged.length === 0,
        input: io.stdin,
        output: io.stderr,
        signal: interrupts.signal,
      });
      if (clack.isCancel(answer)) {
        cancelledAtPrompt = true;
        return { action: 'skip' };
      }
      return answer ? { action: 'run' } : { action: 'skip' };
    };

    let outcome: AgentResult;
    try {
      outcome = await runAgent({
        ...agentOptionsFrom(flags, io, reporter, model, runtime, userFiles.files),
        request: requestText,
        review,
        onEvent: (event: AgentEvent) => {
          if (event.type === 'output' && (flags.json || (event.stream === 'stdout' && !streamStdout))) return;
          reportAgentEvent(event, { reporter, io, modelLabel: model.label });
        },
        abortSignal: interrupts.signal,
      });
    } catch (error) {
      if (interrupts.received !== undefined && !(error instanceof AbortedError)) throw new AbortedError(undefined, { cause: error });
      throw error;
    }
    if (cancelledAtPrompt || interrupts.received !== undefined) throw new AbortedError('Cancelled; nothing more was run.');

    if (flags.json) printJson(io, agentJson(outcome, requestText, model.label));
    else {
      if (!streamStdout && outcome.result !== undefined) writeOutput(io.stdout, outcome.result.stdout);
      reportAgentOutcome(outcome, reporter, { timeoutMs: (await started).timeoutMs, cwd: io.cwd });
    }
    return outcome.exitCode;
  } finally {
    await close();
  }
}
