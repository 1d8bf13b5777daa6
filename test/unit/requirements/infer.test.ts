// inferRequirements end to end: a table of scripts -> requirements (unpinned), then pinning and
// PEP 723 against the test index on 127.0.0.1.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferRequirements, PythonVersionError, type InferOptions } from '../../../src/requirements/index.js';
import { closedPort, startIndexServer, type IndexServer } from '../../helpers/index-server.js';

const unpinned = { pin: false } as const;

const cases: Array<{ name: string; code: string; options?: InferOptions; requirements: string[]; warnings?: RegExp[] }> = [
  { name: 'stdlib only', code: 'import os, sys, json\nfrom collections import Counter\n', requirements: [] },
  {
    name: 'the seed example',
    code: 'import requests\nimport json\nr = requests.get("https://api.github.com/users/synacktraa")\nprint(json.dumps(r.json()))\n',
    requirements: ['requests'],
  },
  {
    name: 'mapped import names, deduplicated',
    code: 'import cv2\nimport numpy as np\nfrom sklearn.linear_model import LinearRegression\nfrom sklearn import datasets\nimport yaml\nfrom PIL import Image\nfrom bs4 import BeautifulSoup\nfrom dateutil import parser\nimport numpy.linalg\n',
    requirements: ['opencv-python', 'numpy', 'scikit-learn', 'PyYAML', 'Pillow', 'beautifulsoup4', 'python-dateutil'],
  },
  {
    name: 'Google namespace resolved by the full dotted name',
    code: 'from google.cloud import storage, bigquery\nimport google.cloud.pubsub_v1\nfrom google.protobuf import json_format\nfrom google import genai\nimport google.generativeai as gemini\n',
    requirements: ['google-cloud-storage', 'google-cloud-bigquery', 'google-cloud-pubsub', 'protobuf', 'google-genai', 'google-generativeai'],
  },
  {
    name: 'Azure namespace',
    code: 'from azure.identity import DefaultAzureCredential\nfrom azure.storage.blob import BlobServiceClient\nfrom azure.storage import queue\n',
    requirements: ['azure-identity', 'azure-storage-blob', 'azure-storage-queue'],
  },
  {
    name: 'a namespace guess is reported',
    code: 'from google.cloud import batch_v1\n',
    requirements: ['google-cloud-batch'],
    warnings: [/guessed the distribution google-cloud-batch/],
  },
  { name: 'a bare namespace names nothing', code: 'import google\n', requirements: [], warnings: [/google is a namespace shared/] },
  { name: 'relative imports are the script’s own', code: 'from . import helpers\nfrom .utils import f\nimport rich\n', requirements: ['rich'] },
  {
    name: 'local modules, given in several spellings',
    code: 'import helpers\nfrom mypkg.sub import thing\nimport tools.extra\nimport rich\n',
    options: { localModules: ['helpers.py', 'mypkg/__init__.py', 'tools'] },
    requirements: ['rich'],
  },
  { name: '__future__ is never a requirement', code: 'from __future__ import annotations\n', requirements: [] },
  {
    name: 'TYPE_CHECKING imports are not needed at run time',
    code: 'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pandas import DataFrame\n    import mypy_boto3_s3\nimport httpx\n',
    requirements: ['httpx'],
  },
  { name: 'optional imports in try/except are kept', code: 'try:\n    import ujson as json\nexcept ImportError:\n    import json\n', requirements: ['ujson'] },
  { name: 'dynamic imports with a literal', code: 'import importlib\nyaml = importlib.import_module("yaml")\nnp = __import__("numpy")\n', requirements: ['PyYAML', 'numpy'] },
  {
    name: 'tomllib on 3.10: stdlib only later, so a warning instead of a bogus package; tomli kept',
    code: 'try:\n    import tomllib\nexcept ImportError:\n    import tomli as tomllib\n',
    options: { pythonVersion: '3.10' },
    requirements: ['tomli'],
    warnings: [/tomllib is in the standard library only from Python 3\.11/],
  },
  { name: 'tomllib on 3.11 is standard library', code: 'import tomllib\n', options: { pythonVersion: '3.11' }, requirements: [] },
  { name: 'distutils on 3.11 is standard library', code: 'from distutils.version import LooseVersion\n', options: { pythonVersion: '3.11' }, requirements: [] },
  { name: 'distutils on 3.12 comes from setuptools', code: 'from distutils.version import LooseVersion\n', options: { pythonVersion: '3.12' }, requirements: ['setuptools'] },
  { name: 'asyncore on 3.11 is standard library', code: 'import asyncore\n', options: { pythonVersion: '3.11' }, requirements: [] },
  { name: 'asyncore on 3.12 comes from its republished package', code: 'import asyncore\n', options: { pythonVersion: '3.12' }, requirements: ['standard-asyncore'] },
  { name: 'imghdr on 3.12 is standard library', code: 'import imghdr\n', options: { pythonVersion: '3.12' }, requirements: [] },
  { name: 'imghdr on 3.13 comes from its republished package', code: 'import imghdr, audioop\n', options: { pythonVersion: '3.13' }, requirements: ['standard-imghdr', 'audioop-lts'] },
  {
    name: 'imp on 3.12: removed with no replacement, a warning',
    code: 'import imp\n',
    options: { pythonVersion: '3.12' },
    requirements: [],
    warnings: [/imp was removed from the standard library in Python 3\.12/],
  },
  {
    name: 'overrides win, and null drops a module',
    code: 'import cv2\nimport internal_tool\nimport yaml\nimport json\n',
    options: { overrides: { cv2: 'opencv-python-headless', internal_tool: null, json: 'orjson' } },
    requirements: ['opencv-python-headless', 'PyYAML', 'orjson'],
  },
  {
    name: 'an override may be a full requirement, and works for a dotted name',
    code: 'from google.cloud import storage\nimport numpy\n',
    options: { overrides: { 'google.cloud.storage': 'google-cloud-storage==2.18.0', numpy: 'numpy<2' } },
    requirements: ['google-cloud-storage==2.18.0', 'numpy<2'],
  },
  { name: 'google.colab cannot be installed', code: 'from google.colab import files\n', requirements: [], warnings: [/google\.colab cannot be installed/] },
  { name: 'broken code still yields what can be read', code: 'import requests\ndef f(:\n    pass\nimport rich\n', requirements: ['requests', 'rich'] },
];

describe('inferRequirements, from imports', () => {
  it.each(cases)('$name', async ({ code, options, requirements, warnings }) => {
    const result = await inferRequirements(code, { ...unpinned, ...options });
    expect(result.source).toBe('inferred');
    expect(result.requirements).toEqual(requirements);
    expect(result.warnings).toHaveLength(warnings?.length ?? 0);
    for (const [index, pattern] of (warnings ?? []).entries()) expect(result.warnings[index]).toMatch(pattern);
  });

  it('clamps an unknown newer Python with a warning and rejects a non-version', async () => {
    const result = await inferRequirements('import tomllib\n', { ...unpinned, pythonVersion: '3.16' });
    expect(result.requirements).toEqual([]);
    expect(result.warnings).toEqual([expect.stringContaining('outside the versions pycage knows')]);
    await expect(inferRequirements('import os\n', { pythonVersion: '2.7' })).rejects.toBeInstanceOf(PythonVersionError);
  });
});

describe('inferRequirements, PEP 723', () => {
  it('takes the inline metadata over the imports', async () => {
    const code = ['# /// script', '# requires-python = ">=3.11"', '# dependencies = [', '#   "requests<3",', '#   "rich",', '# ]', '# ///', 'import requests, rich, numpy', ''].join('\n');
    expect(await inferRequirements(code, unpinned)).toMatchObject({ requirements: ['requests<3', 'rich'], source: 'pep723', warnings: [], requiresPython: '>=3.11' });
  });

  it('warns when the target Python does not meet requires-python', async () => {
    const code = '# /// script\n# requires-python = ">=3.12"\n# dependencies = []\n# ///\n';
    const result = await inferRequirements(code, { ...unpinned, pythonVersion: '3.10' });
    expect(result.requirements).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/asks for Python >=3\.12 .* target is Python 3\.10/)]);
  });

  it('falls back to inference, with a warning, when the metadata is invalid', async () => {
    const code = '# /// script\n# dependencies = "requests"\n# ///\nimport yaml\n';
    const result = await inferRequirements(code, unpinned);
    expect(result.source).toBe('inferred');
    expect(result.requirements).toEqual(['PyYAML']);
    expect(result.warnings).toEqual([expect.stringMatching(/Ignoring the script's inline metadata \(PEP 723\): "dependencies" must be an array of strings/)]);
  });
});

describe('inferRequirements with pinning', () => {
  let server: IndexServer;
  let cacheDir: string;

  beforeAll(async () => {
    server = await startIndexServer({ packages: { requests: ['2.31.0', '2.32.3'], PyYAML: ['6.0.2'], rich: ['13.9.4'], numpy: ['1.26.4', { version: '2.2.0', requiresPython: '>=3.10' }] } });
    cacheDir = await mkdtemp(path.join(tmpdir(), 'pycage-infer-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('pins inferred requirements to the newest release for the target Python', async () => {
    const code = 'import requests\nimport yaml\nimport numpy\n';
    const result = await inferRequirements(code, { indexUrl: server.simpleUrl, cacheDir, pythonVersion: '3.9' });
    expect(result).toMatchObject({ requirements: ['requests==2.32.3', 'PyYAML==6.0.2', 'numpy==1.26.4'], source: 'inferred', warnings: [] });
  });

  it('pins bare PEP 723 dependencies and keeps the specified ones', async () => {
    const code = '# /// script\n# dependencies = ["rich", "requests>=2"]\n# ///\n';
    const result = await inferRequirements(code, { jsonApiUrl: server.jsonApiUrl, cacheDir });
    expect(result.requirements).toEqual(['rich==13.9.4', 'requests>=2']);
  });

  it('returns unpinned requirements with a warning when the index is down', async () => {
    const indexUrl = `http://127.0.0.1:${await closedPort()}/simple`;
    const result = await inferRequirements('import requests\n', { indexUrl, cacheDir });
    expect(result).toMatchObject({ requirements: ['requests'], source: 'inferred', warnings: [`Could not reach ${indexUrl} (connection refused); left unpinned: requests.`] });
  });
});
