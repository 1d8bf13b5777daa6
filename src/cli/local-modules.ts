/**
 * `pycage run dir/main.py` where main.py imports a sibling `helpers.py`: the sibling goes into the
 * sandbox with the script, and is not mistaken for a package to install. Only modules the script
 * imports are sent, and only up to a size that keeps a run cheap.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const maxFiles = 200;
const maxTotalBytes = 4 * 2 ** 20;

export interface LocalModules {
  /** Relative path inside the sandbox's work dir -> file content. */
  files: Record<string, string>;
  /** Top-level module names that are the script's own. */
  names: string[];
}

export async function findLocalModules(code: string, scriptPath: string | undefined): Promise<LocalModules> {
  const found: LocalModules = { files: {}, names: [] };
  if (scriptPath === undefined) return found;
  const directory = path.dirname(scriptPath);
  const scriptName = path.basename(scriptPath);
  // Loaded here rather than at start-up: the one-shot `pycage run` reaches Docker first and reads
  // imports while its container starts, so the parser's loading stays off the critical path.
  const { parseImports, topLevelName } = await import('../requirements/index.js');
  const topLevel = new Set((await parseImports(code)).map(topLevelName));
  let totalBytes = 0;
  const add = async (absolute: string, relative: string): Promise<boolean> => {
    // A limit already reached stays reached whatever the file holds: no need to read it.
    if (Object.keys(found.files).length >= maxFiles || totalBytes > maxTotalBytes) return false;
    const content = await readFile(absolute, 'utf8');
    totalBytes += Buffer.byteLength(content);
    if (totalBytes > maxTotalBytes) return false;
    found.files[relative] = content;
    return true;
  };

  for (const name of topLevel) {
    const moduleFile = path.join(directory, `${name}.py`);
    if (`${name}.py` !== scriptName && (await isFile(moduleFile))) {
      if (await add(moduleFile, `${name}.py`)) found.names.push(name);
      continue;
    }
    const packageDirectory = path.join(directory, name);
    if (await isFile(path.join(packageDirectory, '__init__.py'))) {
      for (const file of await pythonFilesUnder(packageDirectory)) {
        if (!(await add(file, path.relative(directory, file)))) break;
      }
      found.names.push(name);
    }
  }
  return found;
}

async function isFile(candidate: string): Promise<boolean> {
  try {
    return (await stat(candidate)).isFile();
  } catch {
    return false;
  }
}

async function pythonFilesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.py') && !entry.parentPath.includes('__pycache__'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}
