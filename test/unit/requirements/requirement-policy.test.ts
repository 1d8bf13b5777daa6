// What a requirement line may be: a project with extras, versions and a marker passes; URLs, paths and
// VCS links are refused by policy (exit 5) unless allowed; option-looking lines are usage errors.
import { describe, expect, it } from 'vitest';
import { ExitCode, PolicyError, UsageError } from '../../../src/errors.js';
import { checkRequirements, isPlainRequirement } from '../../../src/requirements/index.js';

const plain = [
  'requests',
  'requests==2.32.3',
  'numpy>=1.26,<3',
  'rich[jupyter]',
  'uvicorn[standard] >= 0.30',
  'pkg (>=1.0)',
  'attrs; python_version<"3.12"',
  'zope.interface~=6.0',
  'name===1.0+local',
];
const urls = [
  'x @ https://example.com/x.whl',
  'pkg[extra] @ https://example.com/pkg.whl',
  'x@http://127.0.0.1:8000/x.tar.gz',
  'file:///tmp/pkg.whl',
  'file:../pkg',
  './pkg',
  '../pkg/dist/pkg-1.0.tar.gz',
  '/tmp/pkg-1.0-py3-none-any.whl',
  'pkg-1.0-py3-none-any.whl',
  'git+https://github.com/owner/repo.git',
  'pkg @ git+ssh://git@example.com/repo.git',
  'https://example.com/pkg.zip',
  'attrs; python_version<"3.12" @ https://example.com/x.whl',
];

describe('isPlainRequirement', () => {
  it.each(plain)('accepts %s', (requirement) => {
    expect(isPlainRequirement(requirement)).toBe(true);
  });
  it.each(urls)('refuses %s', (requirement) => {
    expect(isPlainRequirement(requirement)).toBe(false);
  });
});

describe('checkRequirements', () => {
  it('passes a list of plain requirements', () => {
    expect(() => checkRequirements(plain)).not.toThrow();
  });

  it('refuses URL and path requirements with a PolicyError (exit 5) naming each and the flag', () => {
    let caught: unknown;
    try {
      checkRequirements(['requests', 'x @ https://example.com/x.whl', './pkg'], { origin: "the script's inline metadata (PEP 723)" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    const error = caught as PolicyError;
    expect(error.exitCode).toBe(ExitCode.policy);
    expect(error.refused).toEqual(['x @ https://example.com/x.whl', './pkg']);
    expect(error.message).toContain('--allow-url-requirements');
    expect(error.message).toContain('PEP 723');
  });

  it('accepts them with allowUrlRequirements', () => {
    expect(() => checkRequirements(urls, { allowUrlRequirements: true })).not.toThrow();
  });

  it('calls an option-looking line a usage error (exit 2), even when URLs are allowed', () => {
    for (const line of ['--index-url=https://evil.example/simple', '-e .', '--extra-index-url https://x']) {
      expect(() => checkRequirements(['requests', line], { allowUrlRequirements: true })).toThrow(UsageError);
    }
    expect(() => checkRequirements(['a\nb'])).toThrow(UsageError);
  });
});
