/**
 * `pycage` on a terminal: an interactive session built on @clack/prompts. Ask for something, see the
 * code, run / edit / regenerate / skip it, see the output, ask the next thing; each request sees the
 * earlier ones. Ctrl-C cancels the step in progress; at the request prompt it leaves. One runtime
 * stays warm for the whole session and is removed on the way out.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSession, type Proposal, type ReviewDecision } from '../../agent/index.js';
import { AbortedError, PycageError } from '../../errors.js';
import { checkDocker, createRuntime, runtimeDefaults } from '../../runtime/index.js';
import { agentOptionsFrom, reportAgentEvent, reportAgentOutcome, showProposal } from '../agent-setup.js';
import { setUpModel } from '../model-setup.js';
import type { ParsedCommand } from '../args.js';
import { abortOnSignals } from '../interrupts.js';
import type { CliIo } from '../io.js';
import type { Clack, Reporter } from '../reporter.js';
import { askRequestLine, leftPrompt } from '../request-line.js';
import { describeSettings, localWarning, openNetworkWarning, runtimeOptionsFrom } from '../runtime-setup.js';
import { runSessionCommand, type SessionState } from '../session-commands.js';
import { readUserFiles } from '../user-files.js';

const leaveWords = new Set(['exit', 'quit', ':q']);

export default async function session(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const { flags } = parsed;
  const clack = await reporter.prompts();
  const common = { input: io.stdin, output: io.stderr };
  const model = await setUpModel(flags, io, reporter);
  const state: SessionState = { files: {}, requests: [], network: flags.network ?? runtimeDefaults.network };
  if (flags.files.length > 0) {
    const read = await readUserFiles({ paths: flags.files, cwd: io.cwd });
    state.files = read.files;
    for (const name of read.skipped) reporter.warn(`--file: left out ${name} (a symbolic link or special file; links are not followed)`);
  }

  clack.intro(reporter.colors.bold(' pycage '), common);
  if (!flags.local) await checkDocker();
  const runtime = createRuntime(runtimeOptionsFrom(flags, io, reporter));
  try {
    reporter.status('Starting the sandbox', { brief: true });
    const info = await runtime.start();
    reporter.done();
    clack.note(
      [
        `Model    ${model.label}`,
        `Sandbox  ${describeSettings(info)}`,
        ...(Object.keys(state.files).length === 0 ? [] : [`Files    ${Object.keys(state.files).length} given (/file lists them)`]),
        '',
        'Ctrl-C cancels a step; at the prompt it leaves. /help lists the commands; ↑ brings back a request.',
      ].join('\n'),
      'Settings',
      common,
    );
    if (!info.isolated) reporter.warn(localWarning(flags, 'generated code'));
    else if (info.network === 'open') reporter.warn(openNetworkWarning);

    const sessionOptions = agentOptionsFrom(flags, io, reporter, model, runtime);
    const conversation = createSession(sessionOptions);

    let unfinished: string | undefined;
    for (;;) {
      const line = await askRequestLine({
        input: io.stdin,
        output: io.stderr,
        colors: reporter.colors,
        message: conversation.results.length === 0 ? 'What should Python do?' : 'What next?',
        placeholder: conversation.results.length === 0 ? 'e.g. fetch the GitHub user synacktraa and print the JSON' : 'a follow-up, /help, or exit',
        // A request that failed on the model's side is offered again, so nothing typed is lost.
        ...(unfinished === undefined ? {} : { initialValue: unfinished }),
        history: state.requests,
      });
      unfinished = undefined;
      if (line === leftPrompt || leaveWords.has(line.trim().toLowerCase())) break;
      const request = line.trim();
      if (request === '') continue;
      if (state.requests.at(-1) !== request) state.requests.push(request);
      // Lines starting with `/` are pycage's own commands, never sent to the model.
      if (request.startsWith('/')) {
        const next = await runSessionCommand(request, { state, conversation, reporter, io });
        if (next === 'leave') break;
        continue;
      }

      // One abort per step: Ctrl-C while the model thinks or the script runs stops this step only.
      const step = abortOnSignals(io);
      let skipped = false;
      const review = async (proposal: Proposal): Promise<ReviewDecision> => {
        const decision = await reviewProposal(proposal, clack, reporter, io, flags.yes, step.signal);
        if (decision.action === 'skip') skipped = true;
        return decision;
      };
      const started = performance.now();
      try {
        const outcome = await conversation.ask(request, {
          review,
          abortSignal: step.signal,
          onEvent: (event) => reportAgentEvent(event, { reporter, io, modelLabel: model.label }),
          // /file and /network change what the next request gets.
          runOptions: {
            ...sessionOptions.runOptions,
            network: state.network,
            ...(Object.keys(state.files).length === 0 ? {} : { files: state.files }),
          },
        });
        reporter.pause();
        if (skipped) {
          reporter.info('Skipped.');
          continue;
        }
        reportAgentOutcome(outcome, reporter, { timeoutMs: info.timeoutMs, cwd: io.cwd, totalMs: performance.now() - started });
      } catch (error) {
        reporter.pause();
        if (error instanceof AbortedError || step.signal.aborted) reporter.warn('Cancelled.');
        else if (PycageError.isInstance(error)) {
          reporter.error(error.message, error.hint);
          unfinished = request;
        } else throw error;
      } finally {
        step.dispose();
      }
    }
    clack.outro('Bye. The sandbox is being removed.', common);
    return 0;
  } finally {
    reporter.pause();
    await runtime.close();
  }
}

async function reviewProposal(
  proposal: Proposal,
  clack: Clack,
  reporter: Reporter,
  io: CliIo,
  autoRun: boolean,
  abortSignal: AbortSignal,
): Promise<ReviewDecision> {
  showProposal(proposal, reporter, 'Code');
  // --yes does not cover packages nobody vouches for (the package gate): only a person's choice does.
  if (autoRun) return proposal.flagged.length > 0 ? { action: 'refuse' } : { action: 'run' };

  const choice = await clack.select({
    message: proposal.flagged.length > 0 ? 'Install the FLAGGED packages and run it?' : 'Run it?',
    options: [
      { value: 'run' as const, label: 'Run', hint: 'in the sandbox' },
      { value: 'edit' as const, label: 'Edit', hint: 'in $EDITOR, then decide' },
      { value: 'regenerate' as const, label: 'Regenerate', hint: 'ask the model again' },
      { value: 'skip' as const, label: 'Skip' },
    ],
    input: io.stdin,
    output: io.stderr,
    signal: abortSignal,
  });
  if (clack.isCancel(choice) || choice === 'skip') return { action: 'skip' };
  if (choice === 'edit') {
    const edited = await editInEditor(proposal.code, io, reporter);
    if (edited === undefined || edited.trim() === '') {
      reporter.warn('The edit was not saved; keeping the code as it was.');
      return reviewProposal(proposal, clack, reporter, io, autoRun, abortSignal);
    }
    return { action: 'edit', code: edited };
  }
  return { action: choice };
}

/** Opens the code in $VISUAL / $EDITOR (vi when neither is set) and returns what was saved. */
async function editInEditor(code: string, io: CliIo, reporter: Reporter): Promise<string | undefined> {
  const editor = io.env.VISUAL || io.env.EDITOR || 'vi';
  const directory = await mkdtemp(path.join(tmpdir(), 'pycage-edit-'));
  const file = path.join(directory, 'script.py');
  try {
    await writeFile(file, code);
    // $EDITOR may carry arguments ("code --wait"), so it goes through the shell, with the path quoted.
    const exitCode = await new Promise<number>((resolve) => {
      const child = spawn(`${editor} '${file.replaceAll("'", "'\\''")}'`, { shell: true, stdio: 'inherit', env: io.env });
      child.on('error', () => resolve(127));
      child.on('exit', (status) => resolve(status ?? 1));
    });
    if (exitCode !== 0) {
      reporter.warn(`The editor (${editor}) exited with status ${exitCode}.`);
      return undefined;
    }
    return await readFile(file, 'utf8');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
