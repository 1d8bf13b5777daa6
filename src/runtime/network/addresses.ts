/**
 * IP addresses and networks as bytes, and the class of an address (public, private, loopback,
 * link-local...). The egress policy decides on these classes, so this file is the one place that says
 * which ranges count as "not the public internet". Small code of our own rather than `net.BlockList`,
 * because the policy also needs the IPv4 address inside IPv6 forms (::ffff:, NAT64, 6to4).
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  bytes: Uint8Array;
}

export interface IpNetwork extends IpAddress {
  prefixLength: number;
}

/**
 * Why an address is or is not on the public internet. Everything the ranges below do not name is
 * `public`, except IPv6 outside 2000::/3 (global unicast), which is `reserved`: an address space with
 * no public hosts today is refused rather than trusted.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'reserved';

/** `10.0.0.5`, `fd00::1`, `::ffff:1.2.3.4`, `fe80::1%eth0` (the zone is dropped); undefined when not an IP address. */
export function parseIpAddress(text: string): IpAddress | undefined {
  const withoutZone = text.replace(/%[^%]*$/, '');
  if (isIPv4(withoutZone)) return { family: 4, bytes: Uint8Array.from(withoutZone.split('.').map(Number)) };
  if (!isIPv6(withoutZone)) return undefined;
  return { family: 6, bytes: parseIpv6(withoutZone) };
}

/** An address already checked by `isIPv6`: expand `::` and a trailing dotted IPv4 into 16 bytes. */
function parseIpv6(text: string): Uint8Array {
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head = '', tail] = text.split('::');
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const groups = [...headGroups, ...new Array<number>(8 - headGroups.length - tailGroups.length).fill(0), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** `192.168.1.0/24`, `2001:db8::/32`, or a bare address (a network of one). Host bits are cleared. */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const slash = text.indexOf('/');
  const address = parseIpAddress(slash === -1 ? text : text.slice(0, slash));
  if (address === undefined || (slash !== -1 && text.includes('%'))) return undefined;
  const maxLength = address.bytes.length * 8;
  if (slash === -1) return { ...address, prefixLength: maxLength };
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return undefined;
  const prefixLength = Number(lengthText);
  if (prefixLength > maxLength) return undefined;
  const bytes = address.bytes.map((byte, index) => byte & prefixMask(prefixLength, index));
  return { family: address.family, bytes, prefixLength };
}

/** The mask byte at `index` of a prefix `prefixLength` bits long. */
function prefixMask(prefixLength: number, index: number): number {
  const bits = Math.min(8, Math.max(0, prefixLength - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}

export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  if (network.family !== address.family) return false;
  return network.bytes.every((byte, index) => ((address.bytes[index] ?? 0) & prefixMask(network.prefixLength, index)) === byte);
}

/** Compact text of an address: dotted IPv4, or IPv6 as Node prints it (`fd00::1`). */
export function formatIpAddress(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  // IPv4-mapped addresses keep their dotted tail, as Node and the RFC print them.
  if (networkContains(ipv4Mapped, address)) return `::ffff:${address.bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push((((address.bytes[index] ?? 0) << 8) | (address.bytes[index + 1] ?? 0)).toString(16));
  // The longest run of two or more zero groups becomes `::` (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === '0') length += 1;
    if (length > bestLength) [bestStart, bestLength] = [start, length];
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

const ipv4Ranges: ReadonlyArray<readonly [IpNetwork, AddressClass]> = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private'],
    ['100.64.0.0/10', 'cgnat'],
    ['127.0.0.0/8', 'loopback'],
    // Includes 169.254.169.254, the cloud metadata service: the road to a VM's credentials.
    ['169.254.0.0/16', 'link-local'],
    ['172.16.0.0/12', 'private'],
    ['192.0.0.0/24', 'reserved'],
    ['192.0.2.0/24', 'reserved'],
    ['192.88.99.0/24', 'reserved'],
    ['192.168.0.0/16', 'private'],
    ['198.18.0.0/15', 'reserved'],
    ['198.51.100.0/24', 'reserved'],
    ['203.0.113.0/24', 'reserved'],
    ['224.0.0.0/4', 'multicast'],
    // Includes the broadcast address 255.255.255.255.
    ['240.0.0.0/4', 'reserved'],
  ] as const
).map(([text, addressClass]) => [network(text), addressClass] as const);

const ipv6Ranges: ReadonlyArray<readonly [IpNetwork, AddressClass]> = (
  [
    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'reserved'],
    ['fc00::/7', 'unique-local'],
    ['ff00::/8', 'multicast'],
    ['2001:db8::/32', 'reserved'],
    // Teredo hides an IPv4 address (obfuscated) that a relay would reach for us: refused rather than decoded.
    ['2001::/32', 'reserved'],
  ] as const
).map(([text, addressClass]) => [network(text), addressClass] as const);

const globalUnicast = network('2000::/3');
const ipv4Mapped = network('::ffff:0:0/96');
const nat64 = network('64:ff9b::/96');
const sixToFour = network('2002::/16');

function network(text: string): IpNetwork {
  const parsed = parseIpNetwork(text);
  if (parsed === undefined) throw new Error(`bad built-in network ${text}`);
  return parsed;
}

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms that reach an IPv4 host:
 * IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). Without this,
 * `::ffff:169.254.169.254` would pass for an ordinary IPv6 address.
 */
export function embeddedIpv4(address: IpAddress): IpAddress | undefined {
  if (address.family !== 6) return undefined;
  if (networkContains(ipv4Mapped, address) || networkContains(nat64, address)) return { family: 4, bytes: address.bytes.slice(12) };
  if (networkContains(sixToFour, address)) return { family: 4, bytes: address.bytes.slice(2, 6) };
  return undefined;
}

/** The IPv4 address itself for an IPv4-mapped one (::ffff:10.0.0.5 is 10.0.0.5 on the wire); others unchanged. */
export function unmapIpv4(address: IpAddress): IpAddress {
  return address.family === 6 && networkContains(ipv4Mapped, address) ? { family: 4, bytes: address.bytes.slice(12) } : address;
}

export function classifyAddress(address: IpAddress): AddressClass {
  const inner = embeddedIpv4(address);
  if (inner !== undefined) return classifyAddress(inner);
  const ranges = address.family === 4 ? ipv4Ranges : ipv6Ranges;
  for (const [range, addressClass] of ranges) if (networkContains(range, address)) return addressClass;
  if (address.family === 6 && !networkContains(globalUnicast, address)) return 'reserved';
  return 'public';
}
