// The generated standard-library lists, per Python version, and what they say about moved modules.
import { describe, expect, it } from 'vitest';
import { isStandardLibrary, PythonVersionError, standardLibraryHistory, supportedPythonVersions } from '../../../src/requirements/index.js';
import { resolvePythonVersion } from '../../../src/requirements/standard-library.js';

describe('isStandardLibrary', () => {
  it('covers 3.9 to 3.14', () => {
    expect(supportedPythonVersions).toEqual(['3.9', '3.10', '3.11', '3.12', '3.13', '3.14']);
  });

  const cases: Array<{ module: string; yes: string[]; no: string[] }> = [
    { module: 'json', yes: ['3.9', '3.12', '3.14'], no: [] },
    { module: 'os.path', yes: ['3.9', '3.14'], no: [] },
    { module: 'xml.etree.ElementTree', yes: ['3.10', '3.13'], no: [] },
    { module: '__future__', yes: ['3.9', '3.14'], no: [] },
    { module: '__main__', yes: ['3.9', '3.14'], no: [] },
    { module: 'tomllib', yes: ['3.11', '3.12', '3.14'], no: ['3.9', '3.10'] },
    { module: 'distutils', yes: ['3.9', '3.11'], no: ['3.12', '3.13', '3.14'] },
    { module: 'asyncore', yes: ['3.9', '3.11'], no: ['3.12', '3.14'] },
    { module: 'imp', yes: ['3.11'], no: ['3.12'] },
    { module: 'imghdr', yes: ['3.9', '3.12'], no: ['3.13', '3.14'] },
    { module: 'cgi', yes: ['3.12'], no: ['3.13'] },
    { module: 'telnetlib', yes: ['3.12'], no: ['3.13'] },
    { module: 'parser', yes: ['3.9'], no: ['3.10'] },
    { module: 'formatter', yes: ['3.9'], no: ['3.10'] },
    { module: 'binhex', yes: ['3.10'], no: ['3.11'] },
    { module: 'graphlib', yes: ['3.9'], no: [] },
    { module: 'zoneinfo', yes: ['3.9'], no: [] },
    { module: 'annotationlib', yes: ['3.14'], no: ['3.13'] },
    { module: 'compression.zstd', yes: ['3.14'], no: ['3.13'] },
    { module: 'winreg', yes: ['3.9', '3.14'], no: [] },
    { module: 'requests', yes: [], no: ['3.9', '3.12', '3.14'] },
    { module: 'test', yes: [], no: ['3.12'] },
  ];
  it.each(cases)('$module', ({ module, yes, no }) => {
    for (const version of yes) expect(isStandardLibrary(module, version), `${module} in ${version}`).toBe(true);
    for (const version of no) expect(isStandardLibrary(module, version), `${module} not in ${version}`).toBe(false);
  });

  it('defaults to Python 3.12', () => {
    expect(isStandardLibrary('tomllib')).toBe(true);
    expect(isStandardLibrary('distutils')).toBe(false);
  });

  it('accepts patch and pre-release versions, and clamps to the known range', () => {
    expect(isStandardLibrary('tomllib', '3.11.9')).toBe(true);
    expect(isStandardLibrary('imghdr', '3.13.0rc2')).toBe(false);
    expect(resolvePythonVersion('3.8')).toEqual({ version: '3.9', warning: expect.stringContaining('outside') });
    expect(resolvePythonVersion('3.15')).toEqual({ version: '3.14', warning: expect.stringContaining('3.14') });
  });

  it('rejects what is not a Python 3 version', () => {
    expect(() => isStandardLibrary('json', '2.7')).toThrow(PythonVersionError);
    expect(() => isStandardLibrary('json', 'latest')).toThrow(/Not a Python 3 version/);
  });
});

describe('standardLibraryHistory', () => {
  it('says when a module arrived later or left earlier', () => {
    expect(standardLibraryHistory('tomllib', '3.10')).toEqual({ addedIn: '3.11' });
    expect(standardLibraryHistory('annotationlib', '3.12')).toEqual({ addedIn: '3.14' });
    expect(standardLibraryHistory('distutils', '3.12')).toEqual({ removedIn: '3.12' });
    expect(standardLibraryHistory('imghdr', '3.14')).toEqual({ removedIn: '3.13' });
    expect(standardLibraryHistory('json', '3.12')).toEqual({});
    expect(standardLibraryHistory('requests', '3.12')).toEqual({});
  });
});
