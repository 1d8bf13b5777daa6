/**
 * What probe.py says about a Python interpreter (an image's python3, or this machine's for the local
 * runner) and how its answer is read. Both runners probe, so this lives outside either runner's folder.
 */
import { lastJsonLine } from './output.js';

export interface PythonProbe {
  pythonVersion: string;
  /** Real path of the interpreter. */
  executable: string;
  uv: string | null;
  uvVersion: string | null;
  /** venv and ensurepip both importable: pip-in-a-venv installs work. */
  venv: boolean;
  pip: boolean;
}

/** probe.py's closing JSON line as a probe, or undefined when it is not one. */
export function parseProbe(text: string): PythonProbe | undefined {
  // Any JSON value may come back (null, a number): only an object with the two strings is a probe.
  const value = lastJsonLine(text) as Partial<PythonProbe> | null | undefined;
  if (typeof value?.pythonVersion !== 'string' || typeof value.executable !== 'string') return undefined;
  return {
    pythonVersion: value.pythonVersion,
    executable: value.executable,
    uv: typeof value.uv === 'string' ? value.uv : null,
    uvVersion: typeof value.uvVersion === 'string' ? value.uvVersion : null,
    venv: value.venv === true,
    pip: value.pip === true,
  };
}
