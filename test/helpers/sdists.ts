/**
 * Source distributions whose build runs code of the test's choosing, for attack tests: an sdist with an
 * in-tree PEP 517 backend (no build requirements, so it builds with no index), whose `build_wheel` first
 * runs `attack` (Python source, with `report(name, outcome)` and `attempt(name, fn)` in scope) and then
 * writes a plain wheel whose module holds `REPORT`, what each attempt did (`ok` or the error's name).
 * Built with the host's python3 and tarfile.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface HostileSdist {
  name: string;
  version: string;
  /** Python statements run inside `build_wheel`, before the wheel is written. */
  attack: string;
}

const backendTemplate = String.raw`
import base64, hashlib, json, os, sys, zipfile

REPORT = {}

def report(name, outcome):
    REPORT[name] = outcome

def attempt(name, action):
    try:
        action()
        report(name, "ok")
    except BaseException as error:
        report(name, type(error).__name__ + (":" + str(error.errno) if getattr(error, "errno", None) else ""))

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
__ATTACK__
    name, version = "__NAME__", "__VERSION__"
    module = name.replace("-", "_")
    dist_info = "%s-%s.dist-info" % (module, version)
    files = {
        module + ".py": "REPORT = %r\n" % (REPORT,),
        dist_info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
        dist_info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: pycage-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    records = []
    wheel_name = "%s-%s-py3-none-any.whl" % (module, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w") as wheel:
        for path, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append("%s,sha256=%s,%d" % (path, digest, len(data)))
            wheel.writestr(path, data)
        records.append(dist_info + "/RECORD,,")
        wheel.writestr(dist_info + "/RECORD", "\n".join(records) + "\n")
    return wheel_name
`;

/** Writes `<name>-<version>.tar.gz` into `directory` and returns its path. */
export function buildHostileSdist(directory: string, spec: HostileSdist): string {
  const attack = spec.attack
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
  const backend = backendTemplate.replace('__ATTACK__', attack).replaceAll('__NAME__', spec.name).replaceAll('__VERSION__', spec.version);
  const pyproject = `[build-system]\nrequires = []\nbuild-backend = "hostile_backend"\nbackend-path = ["."]\n\n[project]\nname = "${spec.name}"\nversion = "${spec.version}"\n`;
  const base = `${spec.name.replace(/-/g, '_')}-${spec.version}`;
  const target = path.join(directory, `${base}.tar.gz`);
  const program = [
    'import io, sys, tarfile, json',
    'target, base, files = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())',
    'with tarfile.open(target, "w:gz") as archive:',
    '    for name, text in files.items():',
    '        data = text.encode()',
    '        info = tarfile.TarInfo(base + "/" + name)',
    '        info.size = len(data)',
    '        archive.addfile(info, io.BytesIO(data))',
  ].join('\n');
  const pkgInfo = `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n`;
  execFileSync('python3', ['-c', program, target, base], {
    input: JSON.stringify({ 'pyproject.toml': pyproject, 'hostile_backend.py': backend, 'PKG-INFO': pkgInfo }),
  });
  return target;
}
