// Reading imports with the tree-sitter parser: one case per import form, plus broken code.
import { describe, expect, it } from 'vitest';
import { parseImports, readImports } from '../../../src/requirements/index.js';

const cases: Array<{ name: string; code: string; modules: string[] }> = [
  { name: 'plain import', code: 'import requests\n', modules: ['requests'] },
  { name: 'dotted import', code: 'import os.path\nimport xml.etree.ElementTree\n', modules: ['os.path', 'xml.etree.ElementTree'] },
  { name: 'aliased dotted import', code: 'import matplotlib.pyplot as plt\n', modules: ['matplotlib.pyplot'] },
  { name: 'several per line', code: 'import numpy as np, pandas, scipy.stats as st\n', modules: ['numpy', 'pandas', 'scipy.stats'] },
  { name: 'from import', code: 'from bs4 import BeautifulSoup\n', modules: ['bs4'] },
  { name: 'from dotted import with alias', code: 'from google.cloud import storage as gcs\n', modules: ['google.cloud'] },
  { name: 'parenthesised names over lines', code: 'from sklearn.model_selection import (\n    train_test_split,  # split\n    GridSearchCV as G,\n)\n', modules: ['sklearn.model_selection'] },
  { name: 'star import', code: 'from tkinter import *\n', modules: ['tkinter'] },
  { name: 'spaces inside a dotted name', code: 'import a . b\nfrom c .d import e\n', modules: ['a.b', 'c.d'] },
  { name: 'semicolons', code: 'import x; import y\n', modules: ['x', 'y'] },
  { name: 'inside try/except', code: 'try:\n    import ujson as json\nexcept ImportError:\n    import json\n', modules: ['ujson', 'json'] },
  { name: 'inside if/else', code: 'import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib\n', modules: ['sys', 'tomllib', 'tomli'] },
  { name: 'inside a function', code: 'def main():\n    import httpx\n    return httpx\n', modules: ['httpx'] },
  { name: 'inside an async function and a with block', code: 'async def main():\n    with open("x") as f:\n        import aiofiles\n', modules: ['aiofiles'] },
  { name: 'inside a class and a method', code: 'class A:\n    import yaml\n    def m(self):\n        from PIL import Image\n', modules: ['yaml', 'PIL'] },
  { name: 'inside match and while', code: 'while True:\n    match x:\n        case 1:\n            import rich\n    break\n', modules: ['rich'] },
  { name: 'relative imports skipped', code: 'from . import sibling\nfrom .helpers import f\nfrom ..pkg.mod import g\nimport real\n', modules: ['real'] },
  { name: '__future__ skipped', code: 'from __future__ import annotations\nimport attr\n', modules: ['attr'] },
  { name: 'TYPE_CHECKING block left out', code: 'from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pandas import DataFrame\nimport numpy\n', modules: ['typing', 'numpy'] },
  { name: 'typing.TYPE_CHECKING, else branch kept', code: 'import typing\nif typing.TYPE_CHECKING:\n    import mypy_boto3_s3\nelse:\n    import boto3\n', modules: ['typing', 'boto3'] },
  { name: '__import__ with a literal', code: 'mod = __import__("pkg_one.sub")\n', modules: ['pkg_one.sub'] },
  { name: 'importlib.import_module with a literal', code: "import importlib\nm = importlib.import_module('yaml')\n", modules: ['importlib', 'yaml'] },
  { name: 'import_module imported by name', code: "from importlib import import_module\nimport_module('lxml.etree')\n", modules: ['importlib', 'lxml.etree'] },
  { name: 'dynamic imports that are not literals skipped', code: "import importlib\nimportlib.import_module(name)\nimportlib.import_module(f'x{y}')\nimportlib.import_module('.rel', 'pkg')\n__import__('a' + 'b')\n__import__('num\\x70y')\n__import__(b'bytes')\n", modules: ['importlib'] },
  { name: 'imports in strings and comments ignored', code: '"""\nimport fake_in_docstring\n"""\n# import fake_in_comment\ns = "import fake_in_string"\nimport real\n', modules: ['real'] },
  { name: 'duplicates reported once, in order', code: 'import b\nimport a\nimport b\nfrom a import x\n', modules: ['b', 'a'] },
  { name: 'CRLF line endings', code: 'import requests\r\nfrom rich import print\r\n', modules: ['requests', 'rich'] },
  { name: 'non-ASCII identifiers', code: 'import café\n', modules: ['café'] },
  { name: 'empty file', code: '', modules: [] },
];

describe('parseImports', () => {
  it.each(cases)('$name', async ({ code, modules }) => {
    expect(await parseImports(code)).toEqual(modules);
  });

  it('reads what it can from code with syntax errors, and never throws', async () => {
    const code = [
      'import numpy as np',
      'def broken(:',
      '    import inside_broken',
      'x = = 1',
      'import after_bad_assignment',
      'print("unclosed',
      'class A:',
      '    def m(self):',
      '        return np.array([1, 2',
      'import pandas',
      'from z import (',
    ].join('\n');
    const modules = await parseImports(code);
    expect(modules).toEqual(expect.arrayContaining(['numpy', 'inside_broken', 'after_bad_assignment', 'pandas']));
    expect(modules).not.toContain('z');
  });

  it('does not throw on binary-looking or absurd input', async () => {
    await expect(parseImports('\u0000\u0001 import \uffff ((((')).resolves.toBeInstanceOf(Array);
    await expect(parseImports(')'.repeat(10_000))).resolves.toEqual([]);
  });
});

describe('readImports', () => {
  it('gives form, names, line and the TYPE_CHECKING flag', async () => {
    const code = 'from google.cloud import storage, bigquery as bq\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n__import__("x")\nfrom a import *\n';
    expect(await readImports(code)).toEqual([
      { module: 'google.cloud', names: ['storage', 'bigquery'], form: 'from', typeCheckingOnly: false, line: 1 },
      { module: 'typing', names: ['TYPE_CHECKING'], form: 'from', typeCheckingOnly: false, line: 2 },
      { module: 'boto3', names: [], form: 'import', typeCheckingOnly: true, line: 4 },
      { module: 'x', names: [], form: 'dynamic', typeCheckingOnly: false, line: 5 },
      { module: 'a', names: ['*'], form: 'from', typeCheckingOnly: false, line: 6 },
    ]);
  });

  it('parses many scripts concurrently with one lazily loaded parser', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => parseImports(`import pkg${index}\n`)));
    expect(results.map((modules) => modules[0])).toEqual(Array.from({ length: 20 }, (_, index) => `pkg${index}`));
  });
});
