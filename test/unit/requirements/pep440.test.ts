// Version ordering and specifiers, as pip applies them when choosing the newest release.
import { describe, expect, it } from 'vitest';
import { compareVersions, newestVersion, parseVersion, satisfiesSpecifier } from '../../../src/requirements/index.js';

function sorted(versions: string[]): string[] {
  return [...versions].sort((left, right) => compareVersions(parseVersion(left)!, parseVersion(right)!));
}

describe('PEP 440 ordering', () => {
  it('orders dev, pre, final, post and local releases', () => {
    const ordered = ['1.0.dev0', '1.0a1.dev1', '1.0a1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1.dev0', '1.0.post1', '1.0.1', '1.1', '2!0.1'];
    expect(sorted([...ordered].reverse())).toEqual(ordered);
  });

  it('reads alternative spellings as the same version', () => {
    const same = [
      ['1.0alpha1', '1.0a1'],
      ['1.0-beta.2', '1.0b2'],
      ['1.0c1', '1.0rc1'],
      ['1.0-1', '1.0.post1'],
      ['1.0rev2', '1.0.post2'],
      ['1.0.0', '1.0'],
      ['v2.1', '2.1'],
      ['1.0-dev', '1.0.dev0'],
    ];
    for (const [left, right] of same) expect(compareVersions(parseVersion(left!)!, parseVersion(right!)!), `${left} == ${right}`).toBe(0);
  });

  it('compares numerically, not as text', () => {
    expect(newestVersion(['1.9', '1.10', '1.2'])).toBe('1.10');
    expect(newestVersion(['2.32.3', '2.4.0', '10.0'])).toBe('10.0');
  });

  it('rejects what is not a version', () => {
    expect(parseVersion('latest')).toBeUndefined();
    expect(parseVersion('1.0-legacy-x')).toBeUndefined();
  });
});

describe('newestVersion', () => {
  it('prefers the newest final release over newer pre-releases', () => {
    expect(newestVersion(['1.0', '1.1', '2.0rc1', '2.0.dev3'])).toBe('1.1');
    expect(newestVersion(['1.0', '1.0.post1'])).toBe('1.0.post1');
  });

  it('falls back to pre-releases when nothing else exists, and ignores junk', () => {
    expect(newestVersion(['0.1a1', '0.1b2', 'garbage'])).toBe('0.1b2');
    expect(newestVersion([])).toBeUndefined();
  });

  it('honours epochs', () => {
    expect(newestVersion(['2024.1', '1!1.0'])).toBe('1!1.0');
  });
});

describe('satisfiesSpecifier', () => {
  it.each([
    ['3.12.99', '>=3.9', true],
    ['3.8.99', '>=3.9', false],
    ['3.12.99', '>=3.8, <3.13', true],
    ['3.13.99', '>=3.8, <3.13', false],
    ['3.9.99', '!=3.9.*', false],
    ['3.10.99', '==3.10.*', true],
    ['3.11.99', '~=3.10', true],
    ['4.0', '~=3.10', false],
    ['3.10.5', '~=3.10.2', true],
    ['3.11.0', '~=3.10.2', false],
    ['3.12.99', '>3.12', true],
    ['3.12.0', '<=3.12', true],
    ['3.13.0rc1', '<3.13', false],
    ['1.0.post1', '>1.0', false],
    ['3.12.99', '', true],
    ['3.12.99', '>=3.9,', true],
    ['3.12.99', 'garbage, >=3.9', true],
    ['3.12.99', '>= 3.9', true],
    ['3.12.99', '~=3', true],
    ['1.0+local.1', '==1.0', true],
    ['1.0', '==1.0+local.1', false],
    ['1.0', '===1.0', true],
    ['1.0.0', '===1.0', false],
    ['3.13.0rc1', '>=3.9', true],
    ['1!1.0', '>=2024.1', true],
    ['not a version', '>=1', false],
  ])('%s against %j: %s', (version, specifier, expected) => {
    expect(satisfiesSpecifier(version, specifier)).toBe(expected);
  });
});
