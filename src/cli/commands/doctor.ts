/**
 * `pycage doctor`: checks what pycage depends on, one verdict per line: Docker, gVisor, the sandbox
 * image, the package index, the API key and the model endpoint. Exit 0 when everything needed works;
 * otherwise the exit status of the first problem (3 for Docker or the image, 4 for the key or the
 * model, 1 for an index named with --index-url that does not answer; PyPI out of reach is a note, as
 * scripts without packages still run).
 */
import { ExitCode, PycageError } from '../../errors.js';
import type { ModelConfig } from '../../generator/index.js';
import { checkDocker, checkImage, createRuntime, offlineImageScript, type Runtime } from '../../runtime/index.js';
import { modelConfigFrom, providerFor } from '../model-setup.js';
import { maskUrl, plainHttpHost } from '../../index-url.js';
import type { CliFlags, ParsedCommand } from '../args.js';
import type { CliIo } from '../io.js';
import { printJson, writeOutput } from '../output.js';
import type { Reporter } from '../reporter.js';
import { describeSettings, runtimeOptionsFrom } from '../runtime-setup.js';

type Verdict = 'ok' | 'note' | 'fail';

interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
  hint?: string;
  exitCode?: number;
}

const modelCheckTimeoutMs = 15_000;
/** Short: on a machine with no network the answer is "not reachable", not a wait. */
const indexCheckTimeoutMs = 5_000;
/** Where pip and uv look when no --index-url is given. */
const pypiSimpleUrl = 'https://pypi.org/simple';

export default async function doctor(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<number> {
  const { flags } = parsed;
  const checks: Check[] = [];
  const report = (check: Check): void => {
    checks.push(check);
    if (!flags.json) printCheck(check, io, reporter);
  };

  if (flags.local) {
    report({ name: 'Docker', verdict: 'note', detail: 'not checked: --local runs scripts on this machine, with no sandbox' });
  } else {
    let dockerWorks = false;
    try {
      const docker = await checkDocker();
      dockerWorks = true;
      report({ name: 'Docker', verdict: 'ok', detail: `Docker ${docker.version} at ${docker.endpoint} (API ${docker.apiVersion})` });
      report(
        docker.runtimes.includes('runsc')
          ? { name: 'gVisor', verdict: 'ok', detail: 'the runsc runtime is registered; --gvisor will use it' }
          : { name: 'gVisor', verdict: 'note', detail: 'runsc is not registered with Docker (optional, needed for --gvisor)' },
      );
    } catch (error) {
      report(failure('Docker', error, ExitCode.docker));
    }
    if (dockerWorks) for (const check of await imageCheck(parsed, io, reporter)) report(check);
  }
  report(await indexCheck(flags));

  let config: ModelConfig | undefined;
  try {
    config = modelConfigFrom(flags, io);
    report({ name: 'API key', verdict: 'ok', detail: `${config.provider}: a key is configured` });
  } catch (error) {
    report(failure('API key', error, ExitCode.model));
  }
  if (config !== undefined) {
    const provider = providerFor(config, reporter);
    try {
      const models = await provider.listModels({ abortSignal: AbortSignal.timeout(modelCheckTimeoutMs) });
      report(
        models.length === 0 || models.includes(config.model)
          ? { name: 'Model', verdict: 'ok', detail: `${provider.baseUrl} answers and serves ${config.model}` }
          : {
              name: 'Model',
              verdict: 'fail',
              detail: `${provider.baseUrl} answers, but does not list ${config.model}`,
              hint: `It lists: ${models.slice(0, 8).join(', ')}${models.length > 8 ? ', ...' : ''}. Choose one with --model or PYCAGE_MODEL.`,
              exitCode: ExitCode.model,
            },
      );
    } catch (error) {
      report(failure('Model', error, ExitCode.model));
    }
  }

  const firstFailure = checks.find((check) => check.verdict === 'fail');
  if (flags.json) printJson(io, { ok: firstFailure === undefined, checks });
  return firstFailure === undefined ? ExitCode.ok : (firstFailure.exitCode ?? ExitCode.failure);
}

async function imageCheck(parsed: ParsedCommand, io: CliIo, reporter: Reporter): Promise<Check[]> {
  const options = runtimeOptionsFrom(parsed.flags, io, reporter);
  try {
    const image = await checkImage(options.image === undefined ? {} : { image: options.image });
    if (!image.present) {
      return [image.fromDockerfile
        ? {
            name: 'Image',
            verdict: 'note',
            detail: `${image.reference} will be built from docker/Dockerfile on first use (needs Docker Hub and ghcr.io)`,
            hint: `Without a registry: sudo bash ${offlineImageScript}, then PYCAGE_IMAGE=pycage-offline:bookworm.`,
          }
        : { name: 'Image', verdict: 'fail', detail: `${image.reference} is not on the Docker daemon`, hint: 'Pull or build it, or name another with --image.', exitCode: ExitCode.docker }];
    }
    // The image is there: start a sandbox in it, which also proves the hardened settings work.
    const runtime = createRuntime({ ...options, poolSize: 0 });
    try {
      const info = await runtime.start();
      const checks: Check[] = [{ name: 'Image', verdict: 'ok', detail: describeSettings(info) }];
      if (info.network === 'public') checks.push(await egressCheck(runtime));
      return checks;
    } finally {
      await runtime.close();
    }
  } catch (error) {
    return [failure('Image', error, ExitCode.docker)];
  }
}

/**
 * The egress proxy, tried for real without sending a packet anywhere: a script asks for the cloud
 * metadata address through it, which the proxy must refuse before connecting.
 */
async function egressCheck(runtime: Runtime): Promise<Check> {
  const probe = 'import urllib.request\ntry:\n    urllib.request.urlopen("http://169.254.169.254/", timeout=10)\nexcept Exception as error:\n    print(error)\n';
  try {
    const result = await runtime.runScript(probe, { timeoutMs: 30_000 });
    const refused = result.network.blocked.some((entry) => entry.host === '169.254.169.254' && entry.reason === 'link-local');
    return refused
      ? { name: 'Network', verdict: 'ok', detail: 'public: the egress proxy answers, and refused 169.254.169.254 (link-local) before connecting' }
      : {
          name: 'Network',
          verdict: 'fail',
          detail: `public: the egress proxy did not refuse the metadata address (${(result.stdout || result.stderr).trim().slice(0, 200) || `exit ${result.exitCode}`})`,
          exitCode: ExitCode.docker,
        };
  } catch (error) {
    return failure('Network', error, ExitCode.docker);
  }
}

async function indexCheck(flags: CliFlags): Promise<Check> {
  if (flags.noIndex) return { name: 'Index', verdict: 'note', detail: 'not used: --no-index installs from --find-links only' };
  const named = flags.indexUrl !== undefined;
  const indexUrl = flags.indexUrl ?? pypiSimpleUrl;
  const shown = maskUrl(indexUrl);
  const { checkIndex } = await import('../../requirements/index.js');
  const answer = await checkIndex({ indexUrl, timeoutMs: indexCheckTimeoutMs });
  const host = plainHttpHost(indexUrl);
  if (answer.kind === 'simple-api') {
    const trust = host === undefined ? '' : ` · plain HTTP, trusted for ${host}`;
    return { name: 'Index', verdict: 'ok', detail: `${shown} is reachable and answers the simple API${trust}` };
  }
  const problem: Pick<Check, 'verdict' | 'exitCode'> = named ? { verdict: 'fail', exitCode: ExitCode.failure } : { verdict: 'note' };
  if (answer.kind === 'not-simple-api') {
    return { name: 'Index', ...problem, detail: `${shown} is reachable but does not answer the simple API: ${answer.reason}`, hint: 'Give the simple API\'s address, usually ending in /simple.' };
  }
  return {
    name: 'Index',
    ...problem,
    detail: `${shown} is not reachable (${answer.reason})`,
    hint: named
      ? 'Check the address, and that this machine can reach it.'
      : 'Scripts that need packages cannot install them; --find-links DIR --no-index installs from a wheelhouse.',
  };
}

function failure(name: string, error: unknown, exitCode: number): Check {
  if (PycageError.isInstance(error)) {
    return { name, verdict: 'fail', detail: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }), exitCode: error.exitCode };
  }
  return { name, verdict: 'fail', detail: error instanceof Error ? error.message : String(error), exitCode };
}

function printCheck(check: Check, io: CliIo, reporter: Reporter): void {
  const { colors } = reporter;
  const mark = check.verdict === 'ok' ? colors.green('✓') : check.verdict === 'note' ? colors.yellow('–') : colors.red('✗');
  writeOutput(io.stdout, `${mark} ${check.name.padEnd(8)} ${check.detail}\n`);
  if (check.hint !== undefined) writeOutput(io.stdout, `  ${' '.repeat(8)} ${colors.dim(check.hint)}\n`);
}
