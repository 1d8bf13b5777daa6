import { describe, expect, it } from 'vitest';
import { parsePythonError } from '../../../src/runtime/traceback.js';

describe('parsePythonError', () => {
  it('reads a plain traceback', () => {
    const stderr = [
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 5, in <module>',
      '    divide(1, 0)',
      '  File "/work/script.py", line 2, in divide',
      '    return a / b',
      '           ~~^~~',
      'ZeroDivisionError: division by zero',
      '',
    ].join('\n');
    expect(parsePythonError(stderr)).toEqual({ name: 'ZeroDivisionError', message: 'division by zero', traceback: stderr.trimEnd() });
  });

  it('keeps dotted exception names', () => {
    const stderr = 'Traceback (most recent call last):\n  File "/work/script.py", line 3, in <module>\n    requests.get(url)\nrequests.exceptions.ConnectionError: HTTPSConnectionPool(host=\'x\', port=443): Max retries exceeded\n';
    expect(parsePythonError(stderr)).toMatchObject({
      name: 'requests.exceptions.ConnectionError',
      message: "HTTPSConnectionPool(host='x', port=443): Max retries exceeded",
    });
  });

  it('names a chained exception after the last one and keeps the whole chain', () => {
    const stderr = [
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 2, in <module>',
      '    {}["x"]',
      "KeyError: 'x'",
      '',
      'The above exception was the direct cause of the following exception:',
      '',
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 4, in <module>',
      '    raise ValueError("bad") from error',
      'ValueError: bad',
    ].join('\n');
    const error = parsePythonError(stderr);
    expect(error?.name).toBe('ValueError');
    expect(error?.message).toBe('bad');
    expect(error?.traceback).toBe(stderr);
  });

  it('handles "During handling" chains and output printed before the traceback', () => {
    const stderr = [
      'warning: something first',
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 2, in <module>',
      "KeyError: 'a'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 4, in <module>',
      'TypeError: unsupported operand',
    ].join('\n');
    const error = parsePythonError(stderr);
    expect(error?.name).toBe('TypeError');
    expect(error?.traceback.startsWith('Traceback (most recent call last):')).toBe(true);
    expect(error?.traceback).toContain("KeyError: 'a'");
    expect(error?.traceback).not.toContain('warning: something first');
  });

  it('takes the last traceback when several unrelated ones were printed', () => {
    const stderr = 'Traceback (most recent call last):\n  File "a", line 1\nOSError: first\nhandled, carrying on\nTraceback (most recent call last):\n  File "b", line 2\nRuntimeError: second\n';
    expect(parsePythonError(stderr)).toMatchObject({ name: 'RuntimeError', message: 'second' });
  });

  it('reads exceptions without a message and multi-line messages', () => {
    expect(parsePythonError('Traceback (most recent call last):\n  File "/work/script.py", line 1, in <module>\nKeyboardInterrupt\n')).toMatchObject({
      name: 'KeyboardInterrupt',
      message: '',
    });
    expect(parsePythonError('Traceback (most recent call last):\n  File "x", line 1\nValueError: line one\nline two\n')).toMatchObject({
      name: 'ValueError',
      message: 'line one\nline two',
    });
  });

  it('reads the header-less SyntaxError shape', () => {
    const stderr = '  File "/work/script.py", line 1\n    print("a"\n         ^\nSyntaxError: \'(\' was never closed\n';
    expect(parsePythonError(stderr)).toEqual({ name: 'SyntaxError', message: "'(' was never closed", traceback: stderr.trimEnd() });
    const indentation = '  File "/work/script.py", line 3\n    print(2)\nIndentationError: unexpected indent\n';
    expect(parsePythonError(indentation)?.name).toBe('IndentationError');
  });

  it('reads a SyntaxError raised inside a traceback (an import of a broken module)', () => {
    const stderr = [
      'Traceback (most recent call last):',
      '  File "/work/script.py", line 1, in <module>',
      '    import broken',
      '  File "/work/broken.py", line 1',
      '    def f(:',
      '          ^',
      'SyntaxError: invalid syntax',
    ].join('\n');
    expect(parsePythonError(stderr)).toMatchObject({ name: 'SyntaxError', message: 'invalid syntax' });
  });

  it('returns undefined when there is no Python error', () => {
    expect(parsePythonError('')).toBeUndefined();
    expect(parsePythonError('just some text\nSyntaxError: not after a File line\n')).toBeUndefined();
    expect(parsePythonError('Traceback (most recent call last):\n  File "x", line 1\n')).toBeUndefined();
    expect(parsePythonError('Traceback (most recent call last):\n  File "x"\nthis is not an exception line\n')).toBeUndefined();
  });

  it('copes with CRLF line ends', () => {
    expect(parsePythonError('Traceback (most recent call last):\r\n  File "x", line 1\r\nNameError: name \'y\' is not defined\r\n')).toMatchObject({
      name: 'NameError',
      message: "name 'y' is not defined",
    });
  });
});
