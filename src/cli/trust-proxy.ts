/** `--trust-proxy VALUE`, checked here so that a typo is a usage error, not a crash inside Fastify. */
import { isIP } from 'node:net';

/** What Fastify's `trustProxy` takes from the command line. */
export type TrustProxy = boolean | string[];

/** The names proxy-addr (Fastify's trustProxy) knows for address ranges. */
const ranges = ['loopback', 'linklocal', 'uniquelocal'];

function isAddressOrRange(text: string): boolean {
  if (ranges.includes(text)) return true;
  const [address, prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `true`/`false`, or comma-separated addresses, CIDR ranges or proxy-addr
 * range names (loopback, linklocal, uniquelocal). Throws for anything else,
 * including a hop count: Fastify 5 ignores hop counts (it trusts no proxy for
 * a number, since a hop count cannot tell a proxy from a client that reaches
 * the server directly and forges X-Forwarded-For), so accepting one here would
 * silently trust nothing.
 */
export function parseTrustProxy(value: string): TrustProxy {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) {
    throw new Error("--trust-proxy takes the proxies' addresses, not a hop count (Fastify trusts no proxy for a hop count)");
  }
  const list = value.split(',').map((s) => s.trim());
  if (!list.every(isAddressOrRange)) {
    throw new Error(`--trust-proxy takes true, false, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal), got ${JSON.stringify(value)}`);
  }
  return list;
}
