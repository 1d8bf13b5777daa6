import { describe, expect, it } from 'vitest';
import { parseProbe } from '../../../src/runtime/probe.js';

describe('parseProbe', () => {
  it('reads the closing JSON line after whatever else was printed', () => {
    expect(parseProbe('a warning\n{"pythonVersion":"3.11.2","executable":"/usr/bin/python3.11","uv":null,"venv":true,"pip":false}\n')).toEqual({
      pythonVersion: '3.11.2',
      executable: '/usr/bin/python3.11',
      uv: null,
      uvVersion: null,
      venv: true,
      pip: false,
    });
  });

  it('takes only real strings and true for the optional fields', () => {
    expect(parseProbe('{"pythonVersion":"3.12.7","executable":"/p","uv":1,"uvVersion":["x"],"venv":"yes","pip":1}')).toEqual({
      pythonVersion: '3.12.7',
      executable: '/p',
      uv: null,
      uvVersion: null,
      venv: false,
      pip: false,
    });
  });

  it('is undefined for anything that is not a probe', () => {
    for (const text of ['', 'not json', 'null', '3', '{"pythonVersion":"3.12.7"}', '{"executable":"/p"}', '{"pythonVersion":3,"executable":"/p"}']) {
      expect(parseProbe(text)).toBeUndefined();
    }
  });
});
