// The help text documents every flag and exit status of the CLI contract (DESIGN.md).
import { describe, expect, it } from 'vitest';
import { helpText } from '../../../src/cli/help.js';

describe('pycage --help', () => {
  it.each(['--network', 'public', 'none', 'open', '--allow-host', '--file', '--no-file-preview', '--output', '--no-output', '--version', '--timeout'])(
    'documents %s',
    (word) => {
      expect(helpText).toContain(word);
    },
  );

  it('lists every exit status', () => {
    const exitStatus = helpText.slice(helpText.indexOf('Exit status'));
    for (const status of ['124', '137', '1 ', '2 ', '3 ', '4 ', '5 ', '130']) expect(exitStatus).toContain(status);
  });
});
