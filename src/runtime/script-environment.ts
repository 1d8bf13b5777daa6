/**
 * The variables a script starts with, the same in a container and on this machine: nothing of the host's
 * environment, only what Python needs to run quietly and to find its own folders and venv. The caller's
 * own `env` (and, in the sandbox, the proxy variables) go on top.
 */

export interface ScriptDirectories {
  /** The PATH before any venv: the image's own, or a minimal one on this machine. */
  path: string;
  /** The script's working directory, which is also its HOME. */
  home: string;
  /** Where the script writes files for the caller (PYCAGE_OUTPUT_DIR). */
  outputDirectory: string;
  /** The run's venv, when it has requirements: first on PATH, and VIRTUAL_ENV. */
  environment?: { binDirectory: string; venvDirectory: string } | undefined;
}

export function scriptEnvironment(directories: ScriptDirectories): Record<string, string> {
  const { environment } = directories;
  const variables: Record<string, string> = {
    PATH: environment === undefined ? directories.path : `${environment.binDirectory}:${directories.path}`,
    HOME: directories.home,
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    // No display in a sandbox: matplotlib draws to files.
    MPLBACKEND: 'Agg',
    PYCAGE_OUTPUT_DIR: directories.outputDirectory,
  };
  if (environment !== undefined) variables.VIRTUAL_ENV = environment.venvDirectory;
  return variables;
}
