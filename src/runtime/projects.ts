/**
 * Projects: a script saved with its requirements (and files) under `<cacheDir>/projects/<name>/`, its
 * environment installed once at creation, so it can be run again and again without inferring or
 * installing anything, as the Python original's create_project/run_project do with uv projects.
 *
 * Layout: `script.py`, `requirements.txt` (one per line), `files/<relative path>`, `project.json`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { checkRelativePath } from './payload.js';
import type { EnvironmentInfo, Project } from './types.js';

const projectName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkProjectName(name: string): string {
  if (!projectName.test(name) || name.includes('..')) {
    throw new UsageError(`Project name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' and '-' (up to 64, starting with a letter or digit).`);
  }
  return name;
}

export function newProjectName(): string {
  return `project-${randomBytes(4).toString('hex')}`;
}

export function projectsDirectory(cacheDir: string): string {
  return path.join(cacheDir, 'projects');
}

export interface StoredProject extends Project {
  code: string;
  files: Record<string, string>;
}

export async function saveProject(options: {
  cacheDir: string;
  name: string;
  code: string;
  requirements: readonly string[];
  files: Record<string, string>;
  environment: EnvironmentInfo | undefined;
}): Promise<Project> {
  const name = checkProjectName(options.name);
  for (const file of Object.keys(options.files)) checkRelativePath(file);
  const root = projectsDirectory(options.cacheDir);
  const directory = path.join(root, name);
  // Written beside the old one and renamed into place: a reader never sees half a project.
  const staging = path.join(root, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(path.join(staging, 'files'), { recursive: true });
  await writeFile(path.join(staging, 'script.py'), options.code);
  await writeFile(path.join(staging, 'requirements.txt'), options.requirements.map((line) => `${line}\n`).join(''));
  for (const [file, content] of Object.entries(options.files)) {
    const target = path.join(staging, 'files', ...file.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  const project: Project = {
    name,
    directory,
    requirements: [...options.requirements],
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    createdAt: new Date().toISOString(),
  };
  await writeFile(path.join(staging, 'project.json'), `${JSON.stringify({ ...project, directory: undefined }, null, 2)}\n`);
  await rm(directory, { recursive: true, force: true });
  await rename(staging, directory);
  return project;
}

async function readFilesUnder(directory: string, prefix = ''): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    const absolute = path.join(directory, entry.name);
    if (entry.isDirectory()) Object.assign(files, await readFilesUnder(absolute, relative));
    else if (entry.isFile()) files[relative] = await readFile(absolute, 'utf8');
  }
  return files;
}

export async function loadProject(cacheDir: string, name: string): Promise<StoredProject> {
  checkProjectName(name);
  const directory = path.join(projectsDirectory(cacheDir), name);
  let meta: Partial<Project>;
  let code: string;
  try {
    meta = JSON.parse(await readFile(path.join(directory, 'project.json'), 'utf8')) as Partial<Project>;
    code = await readFile(path.join(directory, 'script.py'), 'utf8');
  } catch (error) {
    throw new UsageError(`No project named ${JSON.stringify(name)} in ${projectsDirectory(cacheDir)}: create it first with createProject.`, { cause: error });
  }
  const requirements = (await readFile(path.join(directory, 'requirements.txt'), 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  return {
    name,
    directory,
    requirements,
    ...(meta.environment === undefined ? {} : { environment: meta.environment }),
    createdAt: meta.createdAt ?? '',
    code,
    files: await readFilesUnder(path.join(directory, 'files')),
  };
}
