/**
 * The egress policy: which destinations a sandboxed script (or an install) may reach through pycage's
 * proxy. Under `--network public` any public address on ports 80 and 443; with `--allow-host`, only the
 * hosts listed. Private, loopback and other non-public addresses, and the public addresses of the
 * machine the proxy runs on, are reachable only when the user named them, and link-local addresses (the
 * cloud metadata service) never.
 *
 * Decisions are made on addresses, after the proxy resolved the name, so that a name resolving to a
 * private address is caught (DNS rebinding): the proxy then connects to the address checked here.
 */
import { domainToASCII } from 'node:url';
import { UsageError } from '../../errors.js';
import {
  type AddressClass,
  classifyAddress,
  formatIpAddress,
  type IpAddress,
  type IpNetwork,
  networkContains,
  parseIpAddress,
  parseIpNetwork,
  unmapIpv4,
} from './addresses.js';

/** Ports a rule without one allows: plain HTTP and HTTPS. */
export const defaultPorts: readonly number[] = Object.freeze([80, 443]);

/** One `--allow-host` entry, parsed. */
export type HostRule = {
  /** The entry as the user wrote it. */
  readonly text: string;
  readonly ports: readonly number[];
} & (
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string }
  /** `*.example.com`: subdomains of `suffix`, at any depth, not `suffix` itself. */
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'network'; readonly network: IpNetwork }
);

export interface EgressPolicy {
  /** `public`: any public host on ports 80 and 443. `allow-list`: only what `rules` name. */
  readonly mode: 'public' | 'allow-list';
  readonly rules: readonly HostRule[];
}

export interface EgressPolicyOptions {
  /**
   * `--allow-host` entries (see `parseAllowHost`). Empty or absent means the `public` policy.
   * @default [] (public)
   */
  allowHosts?: readonly string[];
}

export type Decision = { allowed: true; address: string } | { allowed: false; reason: string };

const acceptedForms =
  'accepted: a host name (api.github.com), *.domain, an IP address (10.0.0.5, [fd00::1]), a network ' +
  '(192.168.1.0/24, 2001:db8::/32) or *, each with an optional :port (IPv6 with a port in brackets: [fd00::1]:8080)';

/**
 * The policy of a run (`allowHosts` from `--allow-host`) or of an install (`packageIndexAllowHosts`).
 * Throws `UsageError` naming the first entry that is not valid.
 */
export function createEgressPolicy(options: EgressPolicyOptions = {}): EgressPolicy {
  const allowHosts = options.allowHosts ?? [];
  if (allowHosts.length === 0) {
    const anyPublicHost: HostRule = { text: '*', kind: 'any', ports: defaultPorts };
    return Object.freeze({ mode: 'public', rules: Object.freeze([anyPublicHost]) });
  }
  return Object.freeze({ mode: 'allow-list', rules: Object.freeze(allowHosts.map(parseAllowHost)) });
}

/**
 * One `--allow-host` entry: `api.github.com`, `*.example.com`, `10.0.0.5`, `10.0.0.5:5432`,
 * `192.168.1.0/24`, `[fd00::1]:8080`, `2001:db8::/32`, `*`, `*:8443`. Throws `UsageError` otherwise.
 *
 * `*.example.com` matches `api.example.com` and `a.b.example.com` but not `example.com` itself, as a
 * TLS wildcard certificate does: list `example.com` too for the apex. An IP or network rule admits
 * the addresses it covers whatever name the script used to get there.
 */
export function parseAllowHost(text: string): HostRule {
  const fail = (problem: string): never => {
    throw new UsageError(`Invalid --allow-host ${JSON.stringify(text)}: ${problem}; ${acceptedForms}.`);
  };
  const entry = text.trim();
  let hostText: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::([^:]*))?$/.exec(entry);
    if (match === null) return fail('a bracketed IPv6 address is [address] or [address]:port');
    hostText = match[1] ?? '';
    portText = match[2];
    if (parseIpAddress(hostText.split('/')[0] ?? '')?.family !== 6) return fail(`${hostText} is not an IPv6 address`);
  } else if (entry.split(':').length > 2) {
    // Several colons and no brackets: a bare IPv6 address or network, which cannot carry a port.
    hostText = entry;
  } else {
    const colon = entry.indexOf(':');
    hostText = colon === -1 ? entry : entry.slice(0, colon);
    portText = colon === -1 ? undefined : entry.slice(colon + 1);
  }
  let ports = defaultPorts;
  if (portText !== undefined) {
    const port = parsePort(portText);
    if (port === undefined) return fail(`port ${JSON.stringify(portText)} is not a number from 1 to 65535`);
    ports = Object.freeze([port]);
  }

  if (hostText === '*') return { text, kind: 'any', ports };
  if (hostText.startsWith('*.')) {
    const suffix = normalizeHostName(hostText.slice(2));
    if (suffix === undefined) return fail(`${hostText.slice(2)} is not a host name`);
    return { text, kind: 'suffix', suffix, ports };
  }
  if (hostText.includes('*')) return fail('a wildcard is * alone or *.domain at the start');
  if (hostText.includes('/') || parseIpAddress(hostText) !== undefined) {
    const network = parseIpNetwork(hostText);
    if (network === undefined) return fail(`${hostText} is not an IP address or network (prefix length up to 32 for IPv4, 128 for IPv6)`);
    return { text, kind: 'network', network, ports };
  }
  const name = normalizeHostName(hostText);
  if (name === undefined) return fail(`${JSON.stringify(hostText)} is not a host name`);
  return { text, kind: 'name', name, ports };
}

export interface PackageIndexHostsOptions {
  /** The index installs use (pip's `--index-url`); its credentials, if any, are ignored here. @default PyPI */
  indexUrl?: string;
}

/** PyPI's two hosts: the simple index and the one its file links point to. */
const pypiHosts: readonly string[] = Object.freeze(['pypi.org:443', 'files.pythonhosted.org:443']);

/**
 * The `allowHosts` of an install: the package index's host on its URL's port, nothing else. Without
 * `indexUrl`, PyPI. An index whose file links point to another host (some mirrors) needs that host
 * added by the caller: the URL alone does not say it.
 */
export function packageIndexAllowHosts(options: PackageIndexHostsOptions = {}): string[] {
  if (options.indexUrl === undefined) return [...pypiHosts];
  // Credentials in an index URL are masked wherever it is shown.
  const shown = JSON.stringify(options.indexUrl.replace(/\/\/[^/@]*@/, '//***@'));
  let url: URL;
  try {
    url = new URL(options.indexUrl);
  } catch {
    throw new UsageError(`Invalid index URL ${shown}: not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid index URL ${shown}: only http:// and https:// indexes go through the proxy.`);
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  // `hostname` keeps IPv6 brackets, which is the form `parseAllowHost` takes with a port.
  return [`${url.hostname}:${port}`];
}

/** A decimal port from 1 to 65535. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

/** A destination's host: an IP address, or a host name in lower-case ASCII (punycode). `text` is its canonical spelling. */
export type Host = { kind: 'address'; address: IpAddress; text: string } | { kind: 'name'; name: string; text: string };

/**
 * `Example.COM.`, `bücher.de`, `10.0.0.5`, `[fd00::1]` -> a `Host`; undefined when it is neither a valid
 * host name nor an IP address. Names that only look like numbers (`0x7f.1`, `10.1`) are refused rather
 * than handed to a resolver that would read them as addresses.
 */
export function parseHost(text: string): Host | undefined {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = parseIpAddress(unbracketed);
  if (address !== undefined) {
    if (unbracketed !== text && address.family !== 6) return undefined;
    return { kind: 'address', address, text: formatIpAddress(address) };
  }
  const name = normalizeHostName(text);
  return name === undefined ? undefined : { kind: 'name', name, text: name };
}

/** Lower case, punycode, no trailing dot; undefined when not a valid DNS host name. */
function normalizeHostName(text: string): string | undefined {
  const withoutDot = text.endsWith('.') ? text.slice(0, -1) : text;
  if (withoutDot === '' || /[^\p{L}\p{M}\p{N}._-]/u.test(withoutDot)) return undefined;
  const name = domainToASCII(withoutDot).toLowerCase();
  if (name === '' || name.length > 253) return undefined;
  const labels = name.split('.');
  const validLabel = (label: string): boolean => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label);
  if (!labels.every(validLabel)) return undefined;
  // A top-level label of digits is no DNS name; resolvers would read `10.1` or `0x7f.1` as an address.
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(labels.at(-1) ?? '')) return undefined;
  return name;
}

/** `host:port`, with IPv6 addresses in brackets, for messages and the blocked list. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** How a rule relates to a destination: it names it (any address allowed but link-local), or only admits public addresses. */
type Coverage = 'named' | 'public-only' | undefined;

function coverage(rule: HostRule, host: Host, address: IpAddress | undefined): Coverage {
  switch (rule.kind) {
    case 'any':
      return 'public-only';
    case 'suffix':
      return host.kind === 'name' && host.name.endsWith(`.${rule.suffix}`) ? 'public-only' : undefined;
    case 'name':
      return host.kind === 'name' && host.name === rule.name ? 'named' : undefined;
    case 'network':
      // Before resolving (no address yet) a network rule might still cover the name's addresses, so
      // with one in the list any name is resolved: the price of letting names reach a named network.
      if (address === undefined) return 'named';
      return networkContains(rule.network, address) ? 'named' : undefined;
  }
}

/**
 * Whether a host name is worth resolving at all: a name no rule could admit on this port is refused
 * before any DNS query goes out. IP addresses always pass here; `checkDestination` decides on them.
 */
export function checkHostName(policy: EgressPolicy, host: string, port: number): { allowed: true } | { allowed: false; reason: string } {
  const parsed = parseHost(host);
  if (parsed === undefined) return { allowed: false, reason: 'invalid host' };
  if (parsed.kind === 'address') return { allowed: true };
  const candidates = policy.rules.filter((rule) => coverage(rule, parsed, undefined) !== undefined);
  if (candidates.length === 0) return { allowed: false, reason: 'not in --allow-host' };
  if (!candidates.some((rule) => rule.ports.includes(port))) return { allowed: false, reason: `port ${port} not allowed` };
  return { allowed: true };
}

export interface DestinationContext {
  /**
   * The addresses of the machine the proxy runs on. One of them that is public (a VM whose public IP
   * is on its interface) is this machine, not the internet: through the proxy it reaches the host's
   * own services, behind none of the firewalls that face the internet, so it is refused as `host`
   * unless it was named, like a private address.
   * @default []
   */
  hostAddresses?: readonly string[];
}

/**
 * May the script connect to `host` (as it asked for it) on `port`, given the addresses `host` resolved
 * to? The first allowed address wins; when none is, the reason the first one was refused.
 */
export function checkDestination(policy: EgressPolicy, host: string, port: number, addresses: readonly string[], context: DestinationContext = {}): Decision {
  const parsed = parseHost(host);
  if (parsed === undefined) return { allowed: false, reason: 'invalid host' };
  const hostAddresses = canonicalAddresses(context.hostAddresses ?? []);
  let firstRefusal: string | undefined;
  for (const address of addresses) {
    const reason = refusal(policy, parsed, port, address, hostAddresses);
    if (reason === undefined) return { allowed: true, address };
    firstRefusal ??= reason;
  }
  return { allowed: false, reason: firstRefusal ?? 'no address' };
}

/** Each address in one spelling (IPv4-mapped ones as IPv4), for comparing; what does not parse is left out. */
function canonicalAddresses(addresses: readonly string[]): ReadonlySet<string> {
  const canonical = new Set<string>();
  for (const text of addresses) {
    const parsed = parseIpAddress(text);
    if (parsed !== undefined) canonical.add(formatIpAddress(unmapIpv4(parsed)));
  }
  return canonical;
}

/** Why `addressText` is refused for this host and port, or undefined when it is allowed. */
function refusal(policy: EgressPolicy, host: Host, port: number, addressText: string, hostAddresses: ReadonlySet<string>): string | undefined {
  const parsed = parseIpAddress(addressText);
  if (parsed === undefined) return 'invalid address';
  // An IPv4-mapped address is the IPv4 host itself: `10.0.0.5` rules cover `::ffff:10.0.0.5`.
  const address = unmapIpv4(parsed);
  let addressClass: AddressClass | 'host' = classifyAddress(parsed);
  if (addressClass === 'public' && hostAddresses.has(formatIpAddress(address))) addressClass = 'host';
  // The user asked for an address or named a network: the class alone says it. Otherwise say which address the name led to.
  const classReason = host.kind === 'address' ? addressClass : `${addressClass} address ${formatIpAddress(parsed)}`;
  if (addressClass === 'link-local') return classReason;

  let candidates = policy.rules.filter((rule) => coverage(rule, host, address) !== undefined);
  if (candidates.length === 0) return 'not in --allow-host';
  if (addressClass !== 'public') {
    // Wildcards and `public` mode admit public addresses only: that is the DNS-rebinding defence.
    candidates = candidates.filter((rule) => coverage(rule, host, address) === 'named');
    if (candidates.length === 0) return classReason;
  }
  if (!candidates.some((rule) => rule.ports.includes(port))) return `port ${port} not allowed`;
  return undefined;
}
