/**
 * Whether a wheel can be installed in the sandbox, from its file name alone (PEP 427 tags, PEP 600
 * manylinux, PEP 425 compressed tag sets). Pinning uses it to choose a release that has a wheel for the
 * sandbox's Python and platform, rather than the newest release whose wheels are all for Windows or
 * macOS, whose install would then fail (or build from source).
 */

/** The machine the sandbox runs on, as wheel tags see it. */
export interface WheelPlatform {
  /** CPU architectures whose wheels are accepted. @default ['x86_64', 'aarch64'] */
  architectures?: readonly string[];
  /**
   * The newest glibc a `manylinux_X_Y` wheel may need, `major.minor`.
   * @default '2.36' (Debian 12, the sandbox image's base)
   */
  glibcVersion?: string;
}

export const defaultWheelPlatform = { architectures: ['x86_64', 'aarch64'], glibcVersion: '2.36' } as const;

// The legacy manylinux names and the glibc they stand for (PEP 600).
const legacyManylinux: Record<string, [number, number]> = { manylinux1: [2, 5], manylinux2010: [2, 12], manylinux2014: [2, 17] };

/**
 * True when some tag triple of the wheel's file name fits `pythonVersion` (`3.12`; any Python 3 when
 * undefined) on `platform`. A name that is not a wheel's is not compatible.
 */
export function isCompatibleWheel(filename: string, pythonVersion: string | undefined, platform: WheelPlatform = {}): boolean {
  if (!filename.endsWith('.whl')) return false;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return false;
  const [pythonTags = '', abiTags = '', platformTags = ''] = parts.slice(-3);
  const minor = pythonVersion === undefined ? undefined : Number(/^3\.(\d+)/.exec(pythonVersion)?.[1]);
  const pythons = pythonTags.split('.');
  const abis = abiTags.split('.');
  const platforms = platformTags.split('.');
  if (!platforms.some((tag) => platformFits(tag, platform))) return false;
  return pythons.some((python) => abis.some((abi) => pythonAndAbiFit(python, abi, minor)));
}

function pythonAndAbiFit(python: string, abi: string, minor: number | undefined): boolean {
  const interpreter = /^(py|cp)(\d)(\d*)$/.exec(python);
  if (interpreter === null || interpreter[2] !== '3') return false;
  const [, kind, , minorText = ''] = interpreter;
  const tagMinor = minorText === '' ? undefined : Number(minorText);
  if (abi === 'none') {
    // `py3`, `py312` or `cp312` with no ABI: pure Python, or an interpreter-specific one with no extension.
    if (kind === 'py') return tagMinor === undefined || minor === undefined || tagMinor <= minor;
    return minor === undefined || tagMinor === minor;
  }
  if (kind !== 'cp' || tagMinor === undefined) return false;
  // The stable ABI works on the version named and every later one.
  if (abi === 'abi3') return minor === undefined || tagMinor <= minor;
  // `cp312` (or `cp37m` of old) ties the wheel to one CPython version.
  const abiMatch = /^cp3(\d+)m?$/.exec(abi);
  if (abiMatch === null || Number(abiMatch[1]) !== tagMinor) return false;
  return minor === undefined || tagMinor === minor;
}

function platformFits(tag: string, platform: WheelPlatform): boolean {
  if (tag === 'any') return true;
  const architectures = platform.architectures ?? defaultWheelPlatform.architectures;
  const [glibcMajor = 2, glibcMinor = 0] = (platform.glibcVersion ?? defaultWheelPlatform.glibcVersion).split('.').map(Number);
  const linux = /^linux_(.+)$/.exec(tag);
  if (linux !== null) return architectures.includes(linux[1] ?? '');
  const modern = /^manylinux_(\d+)_(\d+)_(.+)$/.exec(tag);
  const legacy = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(tag);
  let needed: [number, number];
  let architecture: string;
  if (modern !== null) {
    needed = [Number(modern[1]), Number(modern[2])];
    architecture = modern[3] ?? '';
  } else if (legacy !== null) {
    needed = legacyManylinux[legacy[1] ?? ''] ?? [99, 0];
    architecture = legacy[2] ?? '';
  } else {
    // musllinux needs musl (the sandbox is glibc); win, macosx, android, ios are other systems.
    return false;
  }
  const glibcFits = needed[0] < glibcMajor || (needed[0] === glibcMajor && needed[1] <= glibcMinor);
  return glibcFits && architectures.includes(architecture);
}
