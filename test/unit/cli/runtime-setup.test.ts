// How a run's files and refused connections are shown to the user.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeArtifacts, describeBlocked } from '../../../src/cli/runtime-setup.js';
import { displayName } from '../../../src/runtime/index.js';
import type { RunResult } from '../../../src/runtime/index.js';

function result(overrides: Partial<RunResult>): RunResult {
  return {
    exitCode: 0, stdout: '', stderr: '', timedOut: false, oomKilled: false, outputTruncated: false, durationMs: 1, requirements: [], artifacts: [],
    refusedArtifacts: [], network: { mode: 'public', blocked: [] }, ...overrides,
  };
}

describe('describeArtifacts', () => {
  it('lists kept files relative to where the user is, and refused ones with their reason', () => {
    const cwd = '/home/user/project';
    const shown = describeArtifacts(
      result({
        artifacts: [{ name: 'plot (1).png', path: path.join(cwd, 'output', 'plot (1).png'), sizeBytes: 2048 }],
        refusedArtifacts: [{ name: '.bashrc', reason: 'dot-name' }, { name: 'link', reason: 'symlink' }],
      }),
      cwd,
    );
    expect(shown).toContain(`${path.join('output', 'plot (1).png')} (2 KiB)`);
    expect(shown).toContain('.bashrc: not kept (dot-name)');
    expect(shown).toContain('link: not kept (symlink)');
    expect(describeArtifacts(result({}), cwd)).toBeUndefined();
  });

  it('escapes control characters in names from the sandbox', () => {
    const name = 'evil\u001b]52;c;aGk=\u0007\nname.txt';
    expect(displayName(name)).toBe('evil\\x1b]52;c;aGk=\\x07\\nname.txt');
    const shown = describeArtifacts(result({ artifacts: [{ name, path: `/out/${name}`, sizeBytes: 1 }] }), '/elsewhere') ?? '';
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});

describe('describeBlocked', () => {
  it("shows the network's refusals as the design words them", () => {
    const blocked = result({ network: { mode: 'public', blocked: [{ host: '169.254.169.254', port: 80, reason: 'link-local' }] } });
    expect(describeBlocked(blocked)).toBe('blocked: 169.254.169.254:80 (link-local)');
    expect(describeBlocked(result({}))).toBeUndefined();
  });
});
