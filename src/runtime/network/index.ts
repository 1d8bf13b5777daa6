/**
 * pycage's egress proxy, host side: the policy deciding what a sandbox may reach, and the HTTP proxy
 * that serves each connection the container's tunnel carries to the host. The only entrance to
 * src/runtime/network.
 */
export { classifyAddress, parseIpAddress } from './addresses.js';
export type { AddressClass, IpAddress } from './addresses.js';
export { createBlockedLog, formatBlockedEntry } from './blocked-log.js';
export type { BlockedEntry, BlockedLog, BlockedLogOptions } from './blocked-log.js';
export { serveProxyConnection } from './http-proxy.js';
export type { ProxyConnectionOptions, ProxyOutcome } from './http-proxy.js';
export {
  checkDestination,
  checkHostName,
  createEgressPolicy,
  defaultPorts,
  formatHostPort,
  packageIndexAllowHosts,
  parseAllowHost,
} from './policy.js';
export type { Decision, DestinationContext, EgressPolicy, EgressPolicyOptions, HostRule, PackageIndexHostsOptions } from './policy.js';
