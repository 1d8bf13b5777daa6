import { describe, expect, it } from 'vitest';
import {
  type AddressClass,
  classifyAddress,
  formatIpAddress,
  networkContains,
  parseIpAddress,
  parseIpNetwork,
} from '../../../../src/runtime/network/addresses.js';

function classify(text: string): AddressClass {
  const address = parseIpAddress(text);
  if (address === undefined) throw new Error(`test address ${text} does not parse`);
  return classifyAddress(address);
}

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    // Neighbours of the ranges above, just outside them.
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['169.253.255.255', 'public'],
    ['11.0.0.1', 'public'],
    ['140.82.112.6', 'public'],
    ['1.1.1.1', 'public'],
    ['223.255.255.255', 'public'],
  ] as const)('IPv4 %s is %s', (address, expected) => {
    expect(classify(address)).toBe(expected);
  });

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'reserved'],
    ['fc00::1', 'unique-local'],
    ['fd00::1', 'unique-local'],
    ['fdff:ffff::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['4000::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
    ['FD00::1', 'unique-local'],
  ] as const)('IPv6 %s is %s', (address, expected) => {
    expect(classify(address)).toBe(expected);
  });

  it.each([
    // IPv4-mapped, dotted and hexadecimal spellings.
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0a01:0203', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    // NAT64 well-known prefix.
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::192.168.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    // 6to4: the IPv4 address sits in the second and third groups.
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0001::1', 'private'],
    ['2002:0808:0808::1', 'public'],
    // The local-use NAT64 prefix is not the well-known one: not public either.
    ['64:ff9b:1::a9fe:a9fe', 'reserved'],
  ] as const)('IPv6 with an embedded IPv4 %s is %s', (address, expected) => {
    expect(classify(address)).toBe(expected);
  });
});

describe('parseIpAddress and parseIpNetwork', () => {
  it('refuses what is not an address', () => {
    for (const text of ['', 'example.com', '1.2.3', '1.2.3.256', '010.0.0.1', '1::2::3', '[::1]', '0x7f.0.0.1']) {
      expect(parseIpAddress(text), text).toBeUndefined();
    }
  });

  it('reads networks, clearing host bits, and refuses bad prefix lengths', () => {
    const network = parseIpNetwork('192.168.1.77/24');
    expect(network && formatIpAddress(network)).toBe('192.168.1.0');
    expect(network?.prefixLength).toBe(24);
    expect(parseIpNetwork('10.0.0.5')?.prefixLength).toBe(32);
    expect(parseIpNetwork('2001:db8::/32')?.prefixLength).toBe(32);
    for (const text of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', 'fe80::1%eth0/64']) {
      expect(parseIpNetwork(text), text).toBeUndefined();
    }
  });

  it('tests containment bit by bit, within one family', () => {
    const network = parseIpNetwork('172.16.0.0/12');
    const inside = parseIpAddress('172.31.0.1');
    const outside = parseIpAddress('172.32.0.1');
    const other = parseIpAddress('::ffff:172.16.0.1');
    if (!network || !inside || !outside || !other) throw new Error('test values do not parse');
    expect(networkContains(network, inside)).toBe(true);
    expect(networkContains(network, outside)).toBe(false);
    expect(networkContains(network, other)).toBe(false);
  });

  it('prints IPv6 compactly', () => {
    const print = (text: string): string => {
      const address = parseIpAddress(text);
      if (address === undefined) throw new Error(text);
      return formatIpAddress(address);
    };
    expect(print('FD00:0:0:0:0:0:0:1')).toBe('fd00::1');
    expect(print('::ffff:a01:203')).toBe('::ffff:10.1.2.3');
    expect(print('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(print('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(print('::')).toBe('::');
  });
});
