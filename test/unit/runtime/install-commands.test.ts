import { describe, expect, it } from 'vitest';
import { environmentKey, installCommands, normalizeRequirements, sourceArguments } from '../../../src/runtime/environments/install-commands.js';
import type { EnvironmentKeyInput } from '../../../src/runtime/environments/install-commands.js';

const base = {
  python: '/usr/local/bin/python3.12',
  venvDirectory: '/opt/pycage/envs/abc/venv',
  cacheDirectory: '/tmp/pycage-installer-cache',
  requirements: ['requests==2.32.3', 'numpy'],
};

describe('installCommands', () => {
  it('builds a uv venv, then installs with uv pip into it', () => {
    const commands = installCommands({ ...base, installer: 'uv', uv: '/usr/local/bin/uv' });
    const env = {
      UV_CACHE_DIR: '/tmp/pycage-installer-cache',
      UV_LINK_MODE: 'copy',
      UV_PYTHON_DOWNLOADS: 'never',
      UV_HTTP_TIMEOUT: '10',
      UV_NO_CONFIG: '1',
    };
    expect(commands).toEqual([
      { argv: ['/usr/local/bin/uv', 'venv', '--python', '/usr/local/bin/python3.12', '/opt/pycage/envs/abc/venv'], env },
      {
        // --no-build: wheels only by default (this round's contract: no build code runs at install).
        argv: ['/usr/local/bin/uv', 'pip', 'install', '--python', '/opt/pycage/envs/abc/venv/bin/python', '--no-build', '--', 'numpy', 'requests==2.32.3'],
        env,
      },
    ]);
  });

  it('passes index options to uv', () => {
    const commands = installCommands({ ...base, installer: 'uv', indexUrl: 'https://mirror.example/simple', findLinks: '/tmp/pycage-wheelhouse' });
    expect(commands[1]!.argv).toEqual([
      'uv',
      'pip',
      'install',
      '--python',
      '/opt/pycage/envs/abc/venv/bin/python',
      '--no-build',
      '--index-url',
      'https://mirror.example/simple',
      '--find-links',
      '/tmp/pycage-wheelhouse',
      '--',
      'numpy',
      'requests==2.32.3',
    ]);
    expect(installCommands({ ...base, installer: 'uv', noIndex: true, findLinks: '/w' })[1]!.argv.slice(6, 9)).toEqual(['--no-index', '--find-links', '/w']);
  });

  it('builds a venv with the image python, then installs with the venv pip', () => {
    const commands = installCommands({ ...base, installer: 'pip', noIndex: true, findLinks: '/tmp/pycage-wheelhouse' });
    const env = { PIP_CACHE_DIR: '/tmp/pycage-installer-cache', PIP_CONFIG_FILE: '/dev/null' };
    expect(commands).toEqual([
      { argv: ['/usr/local/bin/python3.12', '-m', 'venv', '/opt/pycage/envs/abc/venv'], env },
      {
        argv: [
          '/opt/pycage/envs/abc/venv/bin/python',
          '-m',
          'pip',
          'install',
          '--no-input',
          '--disable-pip-version-check',
          '--progress-bar',
          'off',
          '--timeout',
          '10',
          '--retries',
          '1',
          // Wheels only by default (this round's contract).
          '--only-binary',
          ':all:',
          '--no-index',
          '--find-links',
          '/tmp/pycage-wheelhouse',
          '--',
          'numpy',
          'requests==2.32.3',
        ],
        env,
      },
    ]);
  });

  it('takes wheels only unless allowSdist: --only-binary :all: for pip, --no-build for uv', () => {
    const pip = installCommands({ ...base, installer: 'pip' })[1]!.argv;
    expect(pip.slice(pip.indexOf('--only-binary'), pip.indexOf('--only-binary') + 2)).toEqual(['--only-binary', ':all:']);
    expect(pip.indexOf('--only-binary')).toBeLessThan(pip.indexOf('--'));
    expect(installCommands({ ...base, installer: 'pip', allowSdist: true })[1]!.argv).not.toContain('--only-binary');
    const uv = installCommands({ ...base, installer: 'uv' })[1]!.argv;
    expect(uv.indexOf('--no-build')).toBeGreaterThan(-1);
    expect(uv.indexOf('--no-build')).toBeLessThan(uv.indexOf('--'));
    expect(installCommands({ ...base, installer: 'uv', allowSdist: true })[1]!.argv).not.toContain('--no-build');
  });

  it('only makes the venv when there is nothing to install', () => {
    expect(installCommands({ ...base, installer: 'pip', requirements: [] })).toHaveLength(1);
    expect(installCommands({ ...base, installer: 'uv', requirements: [] })).toHaveLength(1);
  });

  it('trusts the host of an http:// index: --trusted-host for pip, --allow-insecure-host for uv', () => {
    const pip = installCommands({ ...base, installer: 'pip', indexUrl: 'http://10.0.0.5:3141/root/pypi/+simple/' })[1]!.argv;
    expect(pip.slice(pip.indexOf('--index-url'), pip.indexOf('--'))).toEqual([
      '--index-url',
      'http://10.0.0.5:3141/root/pypi/+simple/',
      '--trusted-host',
      '10.0.0.5',
    ]);
    const uv = installCommands({ ...base, installer: 'uv', indexUrl: 'http://mirror.lan/simple' })[1]!.argv;
    expect(uv.slice(uv.indexOf('--index-url'), uv.indexOf('--'))).toEqual(['--index-url', 'http://mirror.lan/simple', '--allow-insecure-host', 'mirror.lan']);
  });

  it('adds no trust flag for an https:// index', () => {
    for (const installer of ['pip', 'uv'] as const) {
      const argv = installCommands({ ...base, installer, indexUrl: 'https://mirror.example/simple' })[1]!.argv;
      expect(argv).not.toContain('--trusted-host');
      expect(argv).not.toContain('--allow-insecure-host');
    }
  });

  it('keeps index credentials off the command line: the URL goes in the installer environment only', () => {
    const indexUrl = 'http://user:s3cret@10.0.0.5:3141/simple';
    const pip = installCommands({ ...base, installer: 'pip', indexUrl });
    expect(JSON.stringify(pip.map((command) => command.argv))).not.toContain('s3cret');
    expect(pip[1]!.env.PIP_INDEX_URL).toBe(indexUrl);
    expect(pip[1]!.argv).toEqual(expect.arrayContaining(['--trusted-host', '10.0.0.5']));
    // The venv command has no reason to see it.
    expect(JSON.stringify(pip[0])).not.toContain('s3cret');
    const uv = installCommands({ ...base, installer: 'uv', indexUrl: 'https://__token__:pypi-abc@private.example/simple' });
    expect(JSON.stringify(uv.map((command) => command.argv))).not.toContain('pypi-abc');
    expect(uv[1]!.env.UV_INDEX_URL).toBe('https://__token__:pypi-abc@private.example/simple');
    expect(installCommands({ ...base, installer: 'pip', noIndex: true, indexUrl })[1]!.env.PIP_INDEX_URL).toBeUndefined();
  });

  it('lets noIndex win over an index URL', () => {
    expect(sourceArguments({ indexUrl: 'https://x/simple', noIndex: true })).toEqual(['--no-index']);
    expect(sourceArguments({})).toEqual([]);
  });
});

describe('normalizeRequirements', () => {
  it('trims, drops comments and blanks, de-duplicates and sorts', () => {
    expect(normalizeRequirements(['  requests==2.32.3 ', '', '# a comment', 'numpy  # why', 'requests==2.32.3', 'Flask'])).toEqual([
      'Flask',
      'numpy',
      'requests==2.32.3',
    ]);
  });

  it('refuses anything that reads as an installer option', () => {
    expect(() => normalizeRequirements(['--index-url=https://evil.example'])).toThrow(/installer option/);
    expect(() => normalizeRequirements(['-e .'])).toThrow(/installer option/);
    expect(() => normalizeRequirements(['requests\n--pre'])).toThrow();
  });
});

describe('environmentKey', () => {
  const input = { base: 'sha256:aaa', pythonVersion: '3.12.7', installer: 'pip' as const, requirements: ['b', 'a'] };

  it('is a sha256 that ignores requirement order and duplicates', () => {
    const key = environmentKey(input);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(environmentKey({ ...input, requirements: ['a', 'b', 'a'] })).toBe(key);
  });

  it('changes with the image, the Python version, the installer and the requirements', () => {
    const key = environmentKey(input);
    expect(environmentKey({ ...input, base: 'sha256:bbb' })).not.toBe(key);
    expect(environmentKey({ ...input, pythonVersion: '3.12.8' })).not.toBe(key);
    expect(environmentKey({ ...input, installer: 'uv' })).not.toBe(key);
    expect(environmentKey({ ...input, requirements: ['a', 'b', 'c'] })).not.toBe(key);
  });

  it('changes with where the packages come from: the index, --no-index, the find-links files', () => {
    const key = environmentKey(input);
    const withSource = (source: EnvironmentKeyInput['source']): string => environmentKey({ ...input, source });
    const mirror = withSource({ indexUrl: 'https://mirror.example/simple' });
    expect(mirror).not.toBe(key);
    expect(withSource({ indexUrl: 'https://other.example/simple' })).not.toBe(mirror);
    expect(withSource({ noIndex: true })).not.toBe(key);
    const wheel = { name: 'a-1.0-py3-none-any.whl', sha256: 'a'.repeat(64) };
    const wheelhouse = withSource({ noIndex: true, findLinksFiles: [wheel] });
    // Another wheel of the same name and version is another environment.
    expect(withSource({ noIndex: true, findLinksFiles: [{ ...wheel, sha256: 'b'.repeat(64) }] })).not.toBe(wheelhouse);
    expect(withSource({ noIndex: true, findLinksFiles: [wheel] })).toBe(wheelhouse);
    // PyPI with nothing else keeps the key it always had.
    expect(withSource({})).toBe(key);
  });

  it('ignores the credentials of the index URL, and holds none of them', () => {
    const plain = environmentKey({ ...input, source: { indexUrl: 'https://private.example/simple' } });
    expect(environmentKey({ ...input, source: { indexUrl: 'https://user:token@private.example/simple' } })).toBe(plain);
    expect(environmentKey({ ...input, source: { indexUrl: 'https://other:secret2@private.example/simple' } })).toBe(plain);
  });
});
