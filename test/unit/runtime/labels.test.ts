import { describe, expect, it } from 'vitest';
import { containerLabels, isOrphan, isProcessAlive, labelFilter, newSessionId, sharedLabels } from '../../../src/runtime/docker/labels.js';

describe('labels', () => {
  it('marks every container with owner, session, role and creation time', () => {
    const created = new Date('2026-01-02T03:04:05.000Z');
    expect(containerLabels({ role: 'install', session: 'abc', ownerPid: 42, ownerHost: 'box', created })).toEqual({
      pycage: 'true',
      'pycage.role': 'install',
      'pycage.session': 'abc',
      'pycage.owner-pid': '42',
      'pycage.owner-host': 'box',
      'pycage.created': '2026-01-02T03:04:05.000Z',
    });
    const defaults = containerLabels({ role: 'run', session: 's', pool: 'k' });
    expect(defaults['pycage.owner-pid']).toBe(String(process.pid));
    expect(defaults['pycage.pool']).toBe('k');
    expect(sharedLabels().pycage).toBe('true');
  });

  it('filters by label, optionally by session', () => {
    expect(labelFilter()).toEqual({ label: ['pycage=true'] });
    expect(labelFilter('abc')).toEqual({ label: ['pycage=true', 'pycage.session=abc'] });
  });

  it('makes distinct session ids', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newSessionId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('treats only this host\'s containers of dead owners as orphans', () => {
    const labels = containerLabels({ role: 'run', session: 's', ownerPid: 1234, ownerHost: 'box' });
    const dead = { hostname: 'box', isAlive: () => false };
    expect(isOrphan(labels, dead)).toBe(true);
    expect(isOrphan(labels, { hostname: 'box', isAlive: () => true })).toBe(false);
    expect(isOrphan(labels, { hostname: 'other', isAlive: () => false })).toBe(false);
    expect(isOrphan({ ...labels, pycage: 'false' }, dead)).toBe(false);
    expect(isOrphan({ ...labels, 'pycage.owner-pid': 'garbage' }, dead)).toBe(false);
    expect(isOrphan(undefined, dead)).toBe(false);
  });

  it('knows this process is alive', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(2 ** 22 + 12345)).toBe(false);
  });
});
