import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../../src/errors.js';
import {
  checkDestination,
  checkHostName,
  createEgressPolicy,
  packageIndexAllowHosts,
  parseAllowHost,
} from '../../../../src/runtime/network/index.js';

const publicPolicy = createEgressPolicy();

describe('parseAllowHost', () => {
  it.each([
    ['api.github.com', { kind: 'name', name: 'api.github.com', ports: [80, 443] }],
    ['API.GitHub.com.', { kind: 'name', name: 'api.github.com', ports: [80, 443] }],
    ['bücher.de:8080', { kind: 'name', name: 'xn--bcher-kva.de', ports: [8080] }],
    ['localhost', { kind: 'name', name: 'localhost', ports: [80, 443] }],
    ['*.example.com', { kind: 'suffix', suffix: 'example.com', ports: [80, 443] }],
    ['*.Example.com:8443', { kind: 'suffix', suffix: 'example.com', ports: [8443] }],
    ['*', { kind: 'any', ports: [80, 443] }],
    ['*:8443', { kind: 'any', ports: [8443] }],
    [' 10.0.0.5:5432 ', { kind: 'network', ports: [5432] }],
  ] as const)('reads %j', (text, expected) => {
    expect(parseAllowHost(text)).toMatchObject({ ...expected, text });
  });

  it.each([
    ['10.0.0.5', 32, [80, 443]],
    ['192.168.1.0/24', 24, [80, 443]],
    ['192.168.1.0/24:22', 24, [22]],
    ['[fd00::1]:8080', 128, [8080]],
    ['[fd00::1]', 128, [80, 443]],
    ['fd00::1', 128, [80, 443]],
    ['2001:db8::/32', 32, [80, 443]],
    ['[2001:db8::/32]:443', 32, [443]],
  ] as const)('reads the network %j', (text, prefixLength, ports) => {
    const rule = parseAllowHost(text);
    expect(rule.kind).toBe('network');
    expect(rule.kind === 'network' && rule.network.prefixLength).toBe(prefixLength);
    expect(rule.ports).toEqual(ports);
  });

  it.each([
    ['', 'is not a host name'],
    ['   ', 'is not a host name'],
    ['api.github.com:0', 'port "0" is not a number from 1 to 65535'],
    ['api.github.com:65536', 'port "65536"'],
    ['api.github.com:http', 'port "http"'],
    ['api.github.com:', 'port ""'],
    ['10.0.0.0/33', 'is not an IP address or network'],
    ['10.0.0.5/x', 'is not an IP address or network'],
    ['[10.0.0.5]:80', 'is not an IPv6 address'],
    ['[fd00::1', 'bracketed IPv6 address'],
    ['[fd00::1]:', 'port ""'],
    ['api.*.com', 'a wildcard is * alone or *.domain'],
    ['*example.com', 'a wildcard is'],
    ['*.', 'is not a host name'],
    ['http://api.github.com', undefined],
    ['api.github.com/path', 'is not an IP address or network'],
    ['exa mple.com', 'is not a host name'],
    ['-bad.com', 'is not a host name'],
    ['10.1', 'is not a host name'],
    ['0x7f.1', 'is not a host name'],
    ['a..b', 'is not a host name'],
  ])('refuses %j with a UsageError saying what is accepted', (text, problem) => {
    let thrown: unknown;
    try {
      parseAllowHost(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    const message = (thrown as Error).message;
    expect(message).toContain(`Invalid --allow-host ${JSON.stringify(text)}`);
    if (problem !== undefined) expect(message).toContain(problem);
    expect(message).toContain('accepted: a host name (api.github.com), *.domain');
    expect(message).not.toContain('\n');
  });

  it('reads a bare IPv6 address as an address, never as one with a port (brackets carry ports)', () => {
    const rule = parseAllowHost('::1:80');
    expect(rule).toMatchObject({ kind: 'network', ports: [80, 443] });
    expect(rule.kind === 'network' && rule.network.bytes.at(-1)).toBe(0x80);
  });

  it('createEgressPolicy reports the first bad entry', () => {
    expect(() => createEgressPolicy({ allowHosts: ['api.github.com', 'bad host'] })).toThrow(/Invalid --allow-host "bad host"/);
  });

  it('no allowHosts, or an empty list, is the public policy', () => {
    expect(createEgressPolicy().mode).toBe('public');
    expect(createEgressPolicy({ allowHosts: [] }).mode).toBe('public');
    expect(createEgressPolicy({ allowHosts: ['api.github.com'] }).mode).toBe('allow-list');
  });
});

describe('checkDestination under --network public', () => {
  it('allows a public address on 80 and 443, and picks the first allowed address', () => {
    expect(checkDestination(publicPolicy, 'api.github.com', 443, ['140.82.112.6'])).toEqual({ allowed: true, address: '140.82.112.6' });
    expect(checkDestination(publicPolicy, 'api.github.com', 80, ['10.0.0.1', '140.82.112.6'])).toEqual({ allowed: true, address: '140.82.112.6' });
    expect(checkDestination(publicPolicy, '140.82.112.6', 443, ['140.82.112.6']).allowed).toBe(true);
  });

  it('refuses other ports', () => {
    expect(checkDestination(publicPolicy, 'smtp.example.com', 25, ['93.184.216.34'])).toEqual({ allowed: false, reason: 'port 25 not allowed' });
    expect(checkHostName(publicPolicy, 'smtp.example.com', 25)).toEqual({ allowed: false, reason: 'port 25 not allowed' });
  });

  it('refuses a name that resolves to a non-public address (DNS rebinding), saying which address', () => {
    expect(checkDestination(publicPolicy, 'rebind.example.com', 80, ['10.1.2.3'])).toEqual({ allowed: false, reason: 'private address 10.1.2.3' });
    expect(checkDestination(publicPolicy, 'localhost', 80, ['127.0.0.1', '::1'])).toEqual({ allowed: false, reason: 'loopback address 127.0.0.1' });
    expect(checkDestination(publicPolicy, 'meta.example.com', 80, ['169.254.169.254'])).toEqual({
      allowed: false,
      reason: 'link-local address 169.254.169.254',
    });
    expect(checkDestination(publicPolicy, 'mapped.example.com', 443, ['::ffff:192.168.0.1'])).toEqual({
      allowed: false,
      reason: 'private address ::ffff:192.168.0.1',
    });
    // The first refusal is the reason, whatever comes after it.
    expect(checkDestination(publicPolicy, 'x.example.com', 443, ['100.64.0.1', 'fd00::1'])).toEqual({ allowed: false, reason: 'cgnat address 100.64.0.1' });
  });

  it('refuses non-public IP literals by their class', () => {
    const cases: Array<[string, string]> = [
      ['169.254.169.254', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['10.0.0.5', 'private'],
      ['172.17.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['100.100.100.100', 'cgnat'],
      ['fd00::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['::1', 'loopback'],
      ['255.255.255.255', 'reserved'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
    ];
    for (const [address, reason] of cases) {
      expect(checkDestination(publicPolicy, address, 80, [address]), address).toEqual({ allowed: false, reason });
    }
  });

  it("refuses a public address of this very machine (a VM whose public IP is on its interface) unless it was named", () => {
    // Through the proxy, which runs here, such an address is the host itself, behind none of the
    // firewalls that face the internet: its 0.0.0.0 services and published container ports.
    const hostAddresses = ['203.0.114.9', '2a01:4f8::9'];
    expect(checkDestination(publicPolicy, 'api.github.com', 443, ['140.82.112.6'], { hostAddresses }).allowed).toBe(true);
    expect(checkDestination(publicPolicy, 'myself.example.com', 443, ['203.0.114.9'], { hostAddresses })).toEqual({ allowed: false, reason: 'host address 203.0.114.9' });
    expect(checkDestination(publicPolicy, '203.0.114.9', 80, ['203.0.114.9'], { hostAddresses })).toEqual({ allowed: false, reason: 'host' });
    expect(checkDestination(publicPolicy, '::ffff:203.0.114.9', 80, ['::ffff:203.0.114.9'], { hostAddresses })).toEqual({ allowed: false, reason: 'host' });
    expect(checkDestination(publicPolicy, '2a01:4f8:0::9', 443, ['2a01:4f8:0::9'], { hostAddresses })).toEqual({ allowed: false, reason: 'host' });
    expect(checkDestination(createEgressPolicy({ allowHosts: ['*', '*.example.com'] }), 'myself.example.com', 443, ['203.0.114.9'], { hostAddresses }).allowed).toBe(false);
    // Named, it is reachable, as a named private address is.
    expect(checkDestination(createEgressPolicy({ allowHosts: ['203.0.114.9:443'] }), '203.0.114.9', 443, ['203.0.114.9'], { hostAddresses })).toEqual({
      allowed: true,
      address: '203.0.114.9',
    });
    expect(checkDestination(createEgressPolicy({ allowHosts: ['myself.example.com'] }), 'myself.example.com', 443, ['203.0.114.9'], { hostAddresses }).allowed).toBe(true);
  });

  it('refuses when there is no address or it is not one', () => {
    expect(checkDestination(publicPolicy, 'api.github.com', 443, [])).toEqual({ allowed: false, reason: 'no address' });
    expect(checkDestination(publicPolicy, 'api.github.com', 443, ['not-an-address'])).toEqual({ allowed: false, reason: 'invalid address' });
    expect(checkDestination(publicPolicy, 'bad host', 443, ['140.82.112.6'])).toEqual({ allowed: false, reason: 'invalid host' });
  });
});

describe('checkDestination with --allow-host', () => {
  it('allows only the hosts listed', () => {
    const policy = createEgressPolicy({ allowHosts: ['api.github.com'] });
    expect(checkDestination(policy, 'api.github.com', 443, ['140.82.112.6']).allowed).toBe(true);
    expect(checkDestination(policy, 'API.GITHUB.COM.', 443, ['140.82.112.6']).allowed).toBe(true);
    expect(checkDestination(policy, 'github.com', 443, ['140.82.112.4'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, '140.82.112.6', 443, ['140.82.112.6'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkHostName(policy, 'github.com', 443)).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkHostName(policy, 'api.github.com', 22)).toEqual({ allowed: false, reason: 'port 22 not allowed' });
    expect(checkHostName(policy, 'api.github.com', 443)).toEqual({ allowed: true });
  });

  it('lets an exact name rule reach the private address it resolves to (the user named it)', () => {
    const policy = createEgressPolicy({ allowHosts: ['db.internal:5432'] });
    expect(checkDestination(policy, 'db.internal', 5432, ['10.1.2.3'])).toEqual({ allowed: true, address: '10.1.2.3' });
    expect(checkDestination(policy, 'db.internal', 443, ['10.1.2.3'])).toEqual({ allowed: false, reason: 'port 443 not allowed' });
    expect(checkDestination(policy, 'other.internal', 5432, ['10.1.2.3'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
  });

  it('*.example.com matches subdomains at any depth, not example.com itself, and never admits non-public addresses', () => {
    const policy = createEgressPolicy({ allowHosts: ['*.example.com'] });
    expect(checkDestination(policy, 'api.example.com', 443, ['93.184.216.34']).allowed).toBe(true);
    expect(checkDestination(policy, 'a.b.example.com', 443, ['93.184.216.34']).allowed).toBe(true);
    expect(checkDestination(policy, 'example.com', 443, ['93.184.216.34'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, 'badexample.com', 443, ['93.184.216.34'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, 'internal.example.com', 443, ['10.0.0.8'])).toEqual({ allowed: false, reason: 'private address 10.0.0.8' });
    expect(checkDestination(policy, 'internal.example.com', 443, ['127.0.0.1'])).toEqual({ allowed: false, reason: 'loopback address 127.0.0.1' });
  });

  it('* admits any public host, on 80 and 443 or on the port given', () => {
    const policy = createEgressPolicy({ allowHosts: ['*:8443'] });
    expect(checkDestination(policy, 'anything.test', 8443, ['93.184.216.34']).allowed).toBe(true);
    expect(checkDestination(policy, 'anything.test', 443, ['93.184.216.34'])).toEqual({ allowed: false, reason: 'port 443 not allowed' });
    expect(checkDestination(policy, 'anything.test', 8443, ['192.168.0.2'])).toEqual({ allowed: false, reason: 'private address 192.168.0.2' });
  });

  it('IP and network rules admit the addresses they cover, whatever name led there', () => {
    const policy = createEgressPolicy({ allowHosts: ['10.0.0.5:5432', '192.168.1.0/24', '[fd00::1]:8080', '2001:db8::/32'] });
    expect(checkDestination(policy, '10.0.0.5', 5432, ['10.0.0.5']).allowed).toBe(true);
    expect(checkDestination(policy, '10.0.0.5', 80, ['10.0.0.5'])).toEqual({ allowed: false, reason: 'port 80 not allowed' });
    expect(checkDestination(policy, '10.0.0.6', 5432, ['10.0.0.6'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, '192.168.1.200', 443, ['192.168.1.200']).allowed).toBe(true);
    expect(checkDestination(policy, 'printer.lan', 80, ['192.168.1.9'])).toEqual({ allowed: true, address: '192.168.1.9' });
    expect(checkDestination(policy, '192.168.2.1', 443, ['192.168.2.1'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, 'fd00::1', 8080, ['fd00::1']).allowed).toBe(true);
    expect(checkDestination(policy, 'FD00:0::1', 8080, ['fd00::1']).allowed).toBe(true);
    expect(checkDestination(policy, 'fd00::2', 8080, ['fd00::2'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
    expect(checkDestination(policy, '2001:db8:1::5', 443, ['2001:db8:1::5']).allowed).toBe(true);
    // An IPv4-mapped address is the IPv4 host itself.
    expect(checkDestination(policy, 'db.lan', 5432, ['::ffff:10.0.0.5']).allowed).toBe(true);
    // A name is worth resolving while a network rule might cover its address.
    expect(checkHostName(policy, 'printer.lan', 80)).toEqual({ allowed: true });
  });

  it('never admits link-local, even when the user lists it', () => {
    const policy = createEgressPolicy({ allowHosts: ['169.254.0.0/16', '169.254.169.254:80', 'metadata.google.internal', 'fe80::/10', '*', '0.0.0.0/0'] });
    expect(checkDestination(policy, '169.254.169.254', 80, ['169.254.169.254'])).toEqual({ allowed: false, reason: 'link-local' });
    expect(checkDestination(policy, 'metadata.google.internal', 80, ['169.254.169.254'])).toEqual({
      allowed: false,
      reason: 'link-local address 169.254.169.254',
    });
    expect(checkDestination(policy, 'fe80::1', 80, ['fe80::1'])).toEqual({ allowed: false, reason: 'link-local' });
    expect(checkDestination(policy, '::ffff:169.254.169.254', 80, ['::ffff:169.254.169.254'])).toEqual({ allowed: false, reason: 'link-local' });
  });
});

describe('packageIndexAllowHosts', () => {
  it("is PyPI's two hosts on 443 by default", () => {
    const policy = createEgressPolicy({ allowHosts: packageIndexAllowHosts() });
    expect(checkDestination(policy, 'pypi.org', 443, ['151.101.0.223']).allowed).toBe(true);
    expect(checkDestination(policy, 'files.pythonhosted.org', 443, ['151.101.0.223']).allowed).toBe(true);
    expect(checkDestination(policy, 'pypi.org', 80, ['151.101.0.223'])).toEqual({ allowed: false, reason: 'port 80 not allowed' });
    expect(checkDestination(policy, 'evil.test', 443, ['151.101.0.223'])).toEqual({ allowed: false, reason: 'not in --allow-host' });
  });

  it("is the index URL's host on its port only, credentials aside, a private one included (the user named it)", () => {
    expect(packageIndexAllowHosts({ indexUrl: 'http://user:secret@127.0.0.1:8081/simple/' })).toEqual(['127.0.0.1:8081']);
    expect(packageIndexAllowHosts({ indexUrl: 'https://Mirror.Example.com/simple' })).toEqual(['mirror.example.com:443']);
    expect(packageIndexAllowHosts({ indexUrl: 'http://[fd00::5]/simple' })).toEqual(['[fd00::5]:80']);
    const policy = createEgressPolicy({ allowHosts: packageIndexAllowHosts({ indexUrl: 'http://index.internal:8081/simple' }) });
    expect(checkDestination(policy, 'index.internal', 8081, ['10.0.0.9'])).toEqual({ allowed: true, address: '10.0.0.9' });
    expect(checkDestination(policy, 'index.internal', 22, ['10.0.0.9'])).toEqual({ allowed: false, reason: 'port 22 not allowed' });
  });

  it('refuses what is no http(s) URL with a UsageError', () => {
    expect(() => packageIndexAllowHosts({ indexUrl: 'not a url' })).toThrow(UsageError);
    expect(() => packageIndexAllowHosts({ indexUrl: 'file:///srv/wheels' })).toThrow(/only http:\/\/ and https:\/\//);
    expect(() => packageIndexAllowHosts({ indexUrl: 'ftp://user:hunter2@mirror.test/simple' })).toThrow('"ftp://***@mirror.test/simple"');
    expect(() => packageIndexAllowHosts({ indexUrl: 'http://user:hunter2@[bad/simple' })).toThrow(/^Invalid index URL "http:\/\/\*\*\*@\[bad\/simple": not a URL\.$/);
  });
});
