// Wheel file names against the sandbox's Python and platform (PEP 425/427/600 tags).
import { describe, expect, it } from 'vitest';
import { isCompatibleWheel } from '../../../src/requirements/index.js';

describe('isCompatibleWheel for Python 3.12 on linux x86_64/aarch64', () => {
  const compatible = [
    'pkg-1.0-py3-none-any.whl',
    'pkg-1.0-py2.py3-none-any.whl',
    'pkg-1.0-py312-none-any.whl',
    'pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    'pkg-1.0-cp312-cp312-manylinux_2_28_aarch64.whl',
    'pkg-1.0-cp38-abi3-manylinux2014_x86_64.whl',
    'pkg-1.0-cp312-cp312-manylinux1_x86_64.whl',
    'pkg-1.0-1-cp312-cp312-linux_x86_64.whl',
  ];
  const foreign = [
    'pkg-1.0-cp312-cp312-win_amd64.whl',
    'pkg-1.0-cp312-cp312-macosx_11_0_arm64.whl',
    'pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl',
    'pkg-1.0-cp313-abi3-manylinux_2_17_x86_64.whl',
    'pkg-1.0-cp312-cp312-musllinux_1_2_x86_64.whl',
    'pkg-1.0-cp312-cp312-manylinux_2_39_x86_64.whl',
    'pkg-1.0-cp312-cp312-manylinux_2_17_i686.whl',
    'pkg-1.0-py2-none-any.whl',
    'pkg-1.0-py313-none-any.whl',
    'pkg-1.0.tar.gz',
    'not-a-wheel.whl',
  ];
  it.each(compatible)('accepts %s', (filename) => {
    expect(isCompatibleWheel(filename, '3.12')).toBe(true);
  });
  it.each(foreign)('refuses %s', (filename) => {
    expect(isCompatibleWheel(filename, '3.12')).toBe(false);
  });

  it('takes the platform as an option', () => {
    expect(isCompatibleWheel('pkg-1.0-cp312-cp312-manylinux_2_28_aarch64.whl', '3.12', { architectures: ['x86_64'] })).toBe(false);
    expect(isCompatibleWheel('pkg-1.0-cp312-cp312-manylinux_2_39_x86_64.whl', '3.12', { glibcVersion: '2.39' })).toBe(true);
  });
});
