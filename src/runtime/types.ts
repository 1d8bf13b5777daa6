/**
 * The runtime's public shapes: what `createRuntime` takes, what a run takes and returns, and the
 * events it reports on the way. Both runners (the Docker sandbox and the local process runner) speak
 * exactly these, so a caller never needs to know which one it holds.
 */
import type { DockerOptions } from './docker/docker-client.js';
import type { Logger, LogSink } from '../logger.js';
import type { PackageSource } from '../requirements/index.js';

/**
 * - `public`: HTTP(S) to public addresses through pycage's egress proxy, nothing else.
 * - `none`: no network at all (only loopback).
 * - `open`: Docker's plain bridge network (the host, the LAN and other containers are reachable).
 */
export type NetworkMode = 'public' | 'none' | 'open';
export type Installer = 'uv' | 'pip';
export type RequirementsOption = 'auto' | 'none' | readonly string[];

export interface RuntimeOptions {
  /**
   * Run scripts in a Docker sandbox. `false` runs them as plain processes on this machine, with no
   * isolation at all (a warning goes to `logger` once per runtime, component Runtime; the library
   * never prints, so pass a logger to see it, and check `runtime.isolated`).
   * @default true
   */
  isolate?: boolean;
  /**
   * Any image with `python3` on its PATH; it runs as uid:gid 10001:10001 whatever users it defines.
   * @default env PYCAGE_IMAGE, else an image built on first use from docker/Dockerfile
   */
  image?: string;
  /**
   * Network of the script's container. Under gVisor on hosts whose `runsc` is registered with
   * `--network=none` (as on pycage's CI machines) a container has no network whatever this says.
   * @default 'public'
   */
  network?: NetworkMode;
  /**
   * With network `public`: the only hosts a script may reach (`api.github.com`, `*.example.com`,
   * `10.0.0.5:5432`, `192.168.1.0/24`, `*` for any public host; ports 80 and 443 unless one is given).
   * A private address is reachable when it is named here; link-local addresses never are.
   * @default [] (any public host on ports 80 and 443)
   */
  allowHosts?: readonly string[];
  /**
   * Names the egress proxy answers itself instead of asking DNS, like an /etc/hosts of the sandbox's
   * network: `{ 'api.internal': '10.0.0.5' }`. What they resolve to still goes through the policy.
   * @default {}
   */
  hosts?: Readonly<Record<string, string | readonly string[]>>;
  /** Memory limit of a run, with no swap on top; past it the script is killed (exit 137, `oomKilled`). @default 536870912 (512 MiB) */
  memoryBytes?: number;
  /** CPU quota of a run, in CPUs. @default 1 */
  cpus?: number;
  /** Most processes and threads a run may have at once (contains fork bombs). @default 256 */
  pidsLimit?: number;
  /** Wall-clock limit of a script; past it the whole container is killed (exit 124, `timedOut`). @default 60000 */
  timeoutMs?: number;
  /**
   * Cap on stdout plus stderr kept from a run. Past it the first bytes are kept and the script is
   * stopped (exit 1, `error.name` 'OutputLimitError', `outputTruncated`). @default 4194304 (4 MiB)
   */
  outputLimitBytes?: number;
  /** Run containers under the gVisor runtime (`runsc`). Installs still use the default runtime. @default false */
  gvisor?: boolean;
  /**
   * Package index for installs (a simple API). An `http://` index is trusted for its host (pip's
   * `--trusted-host`, uv's `--allow-insecure-host`). Credentials in it (`https://user:token@host/simple`)
   * reach only the install; `describe()`, messages and log lines show them masked (`user:***@`).
   * @default PyPI (the installer's own default)
   */
  indexUrl?: string;
  /** Host directory of wheels/sdists, sent into the install container (never mounted). */
  findLinks?: string;
  /** Install from `findLinks` only, with no index (and no network for the install). @default false */
  noIndex?: boolean;
  /**
   * Install URL and path requirements (`name @ https://...`, `./pkg`): they fetch code from anywhere and
   * can run build code. Refused with a PolicyError (exit 5) otherwise. @default false
   */
  allowUrlRequirements?: boolean;
  /** Let installs build source distributions (their build code runs at install time). Wheels only otherwise. @default false */
  allowSdist?: boolean;
  /**
   * For `requirements: 'auto'`: packages of origin `unknown` (an import name nobody vouches for) that
   * may be installed anyway; `['*']` for any. Others are refused with a PolicyError (exit 5).
   * @default []
   */
  allowPackages?: readonly string[];
  /** For `requirements: 'auto'`: pins skip releases younger than this. @default 7 */
  minReleaseAgeDays?: number;
  /**
   * Started, unused containers kept ready for runs with the runtime's own settings (a run with other
   * limits gets a container of its own); 0 turns the pool off. @default 2
   */
  poolSize?: number;
  /**
   * Most unused containers the pool keeps when runs come in bursts: after N runs at once with the
   * runtime's own settings it keeps min(N, poolMaxSize) ready, so the next burst does not wait for
   * container starts, and goes back to `poolSize` after `poolIdleMs` without such a burst.
   * @default the larger of poolSize and 12 (room for a burst of 8 right after a few single runs; each
   * idle container costs about 20 MB: 6 MiB inside, the rest its containerd shim)
   */
  poolMaxSize?: number;
  /**
   * An unused pool is emptied (and not refilled until the next run) after this long; a pool grown by a
   * burst shrinks back to `poolSize` after this long without another. @default 300000
   */
  poolIdleMs?: number;
  /** Docker endpoint. @default DOCKER_HOST (including tcp:// and ssh://), else /var/run/docker.sock */
  docker?: DockerOptions;
  /**
   * Prefix of the Docker volumes that cache environments: each environment has a volume of its own,
   * `<prefix>-<key>`. @default 'pycage-env'
   */
  environmentVolume?: string;
  /** Most bytes one environment may hold; an install past it fails with a clear error. @default 4294967296 (4 GiB) */
  environmentLimitBytes?: number;
  /** Host directory for projects, local environments and image probes. @default $XDG_CACHE_HOME/pycage, else ~/.cache/pycage */
  cacheDir?: string;
  /** Host Python for `isolate: false`. @default 'python3' on the PATH */
  python?: string;
  /** Receives log lines (components Runtime, Sandbox, Pool, Environment). @default no logging */
  logger?: Logger | LogSink;
  /** Progress of every run: image build, requirements, installs, run start and end. */
  onEvent?: (event: RuntimeEvent) => void;
}

export interface RunOptions {
  /**
   * `'auto'` infers them from the script's imports; a list is used as given.
   * @default 'none': a script the caller hands over as it is reaches no package index and gets nothing
   * installed that the caller did not name. `createProject` and `runAgent` default to `'auto'` on
   * purpose: a project's environment is built once for many runs, and a model's code comes with no list.
   */
  requirements?: RequirementsOption;
  /**
   * The script's environment variables, on top of a minimal PATH/HOME/LANG/PYTHONUNBUFFERED/
   * PYTHONDONTWRITEBYTECODE/MPLBACKEND/PYCAGE_OUTPUT_DIR. Nothing of the host's environment goes in.
   * @default {}
   */
  env?: Record<string, string>;
  /** Arguments after the script name (`sys.argv[1:]`). @default [] */
  args?: readonly string[];
  /** Extra files next to the script (in its working directory), by relative path (`data/input.csv`). @default {} */
  files?: Record<string, string | Uint8Array>;
  /** The script's stdin. @default empty (/dev/null) */
  stdin?: string | Uint8Array;
  /** @default the runtime's timeoutMs */
  timeoutMs?: number;
  /** @default the runtime's memoryBytes */
  memoryBytes?: number;
  /** @default the runtime's cpus */
  cpus?: number;
  /** @default the runtime's network */
  network?: NetworkMode;
  /** @default the runtime's allowHosts */
  allowHosts?: readonly string[];
  /** @default the runtime's outputLimitBytes */
  outputLimitBytes?: number;
  /**
   * Host directory; regular files the script writes under `./output` (`$PYCAGE_OUTPUT_DIR`) are copied
   * here after the run (up to 64 MiB and 1000 files; symlinks never). Not after a timeout or an abort,
   * whose container is already gone. @default none: nothing is copied
   */
  outputDir?: string;
  /** Live stdout, decoded as UTF-8 as it arrives (up to the output cap). */
  onStdout?: (text: string) => void;
  /** Live stderr, decoded as UTF-8 as it arrives (up to the output cap). */
  onStderr?: (text: string) => void;
  /** This run's events, in addition to the runtime's `onEvent`. */
  onEvent?: (event: RuntimeEvent) => void;
  /** Cancels the run: its container is removed and the call rejects with AbortedError. */
  abortSignal?: AbortSignal;
}

export interface PythonError {
  /** `ValueError`, `requests.exceptions.ConnectionError`, or pycage's own `InstallError` / `OutputLimitError`. */
  name: string;
  message: string;
  /** The traceback block as Python printed it (the installer's output for `InstallError`). */
  traceback: string;
}

export interface Artifact {
  /** Path relative to the output dir, with `/` separators. */
  name: string;
  /** Absolute path of the copy on the host. */
  path: string;
  sizeBytes: number;
  /**
   * The name the script gave, when a file of that name already existed: existing files are never
   * overwritten, so this one was kept under `name` (`plot (1).png`) instead.
   */
  requestedName?: string;
}

export interface EnvironmentInfo {
  /** sha256 of image id, Python version, installer and sorted requirements. */
  key: string;
  /** True when the environment was already built and nothing was installed. */
  reused: boolean;
  installer: Installer;
  installDurationMs: number;
}

/** A file the script wrote under `output/` that was not copied to the host, and why. */
export interface RefusedArtifact {
  /** As the script named it (may hold control characters: show it with `displayName`). */
  name: string;
  /** `dot-name`, `symlink on the way`, `not a regular file`, `over the size cap`... */
  reason: string;
}

/** A refused connection: who the script tried to reach, and why not. */
export interface BlockedConnection {
  host: string;
  port: number;
  /** `link-local`, `private address 10.0.0.5`, `not in --allow-host`... */
  reason: string;
}

export interface NetworkReport {
  mode: NetworkMode;
  /** Every connection the egress proxy refused during the run (de-duplicated, capped). */
  blocked: BlockedConnection[];
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  oomKilled: boolean;
  outputTruncated: boolean;
  /** Wall-clock time of the script itself (not of installs or container start-up). */
  durationMs: number;
  requirements: string[];
  artifacts: Artifact[];
  /** Files under `output/` that were not copied, each with its reason. */
  refusedArtifacts: RefusedArtifact[];
  /** Set when the output directory's archive could not be read (the script's result still stands). */
  artifactsError?: string;
  network: NetworkReport;
  environment?: EnvironmentInfo;
  error?: PythonError;
}

export type RuntimeEvent =
  | { type: 'image-build'; line: string }
  | { type: 'image-ready'; image: string; built: boolean }
  | { type: 'requirements'; requirements: string[]; warnings: string[] }
  | { type: 'install-start'; requirements: string[] }
  | { type: 'install-done'; reused: boolean; durationMs: number; installer: Installer }
  | { type: 'run-start' }
  | { type: 'run-end'; exitCode: number; durationMs: number }
  /**
   * Docker runtime only, on the runtime's `onEvent`: the warm pool has come to rest, with `ready`
   * containers started and waiting, none starting or being removed, no run in flight. Once after
   * `start()` (a server can wait for it before it takes requests, so the first one is served warm),
   * then after each spell of runs once the pool has refilled.
   */
  | { type: 'pool-ready'; ready: number };

export interface RuntimeInfo {
  isolated: boolean;
  /** The image reference in use (`'local'` for the local runner). */
  image: string;
  pythonVersion: string;
  installer: Installer;
  network: NetworkMode;
  memoryBytes: number;
  cpus: number;
  timeoutMs: number;
  gvisor: boolean;
  /** Where installs take packages from; pin requirements against the same source. Index credentials are masked here. */
  packageSource: PackageSource;
}

export interface CreateProjectOptions {
  code: string;
  /**
   * Letters, digits, `.`, `_`, `-`; up to 64 characters, starting with a letter or digit. A project of
   * the same name is replaced. @default a random `project-xxxxxxxx`
   */
  name?: string;
  /** @default 'auto' (unlike `runScript`'s `'none'`: see `RunOptions.requirements`) */
  requirements?: RequirementsOption;
  /** Files saved next to the script and given to every run. */
  files?: Record<string, string>;
  onEvent?: (event: RuntimeEvent) => void;
  abortSignal?: AbortSignal;
}

export interface Project {
  name: string;
  /** Host directory holding `script.py`, `requirements.txt`, `project.json` and `files/`. */
  directory: string;
  requirements: string[];
  /** The environment built (or found) when the project was created; absent with no requirements. */
  environment?: EnvironmentInfo;
  createdAt: string;
}

export interface CloseOptions {
  /**
   * Wait for Docker to remove the containers. With `false`, for a program that exits right after
   * (a one-shot command): the containers' lifelines are cut and nothing is sent to Docker, so this
   * returns at once and leaves no request holding the process up; each container's main process sees
   * its lifeline close and exits, and Docker removes the container (AutoRemove) within about 100 ms,
   * whether or not this process still runs, as it would after a crash. A run still in flight rejects
   * with AbortedError. A container whose start was still in flight is removed once it has started,
   * or, if the process exits first, by the next pycage start's sweep. The local runner kills its
   * processes either way.
   * @default true
   */
  wait?: boolean;
}

export interface Runtime extends AsyncDisposable {
  readonly isolated: boolean;
  /** Optional warm-up (image, probe, pool); every other method calls it. */
  start(options?: { abortSignal?: AbortSignal }): Promise<RuntimeInfo>;
  describe(): Promise<RuntimeInfo>;
  runScript(code: string, options?: RunOptions): Promise<RunResult>;
  createProject(options: CreateProjectOptions): Promise<Project>;
  runProject(name: string, options?: Omit<RunOptions, 'requirements'>): Promise<RunResult>;
  /**
   * Removes every container this runtime made and resolves once they are gone. Safe to call twice: a
   * later call, of either kind, returns the first call's promise.
   */
  close(options?: CloseOptions): Promise<void>;
}
