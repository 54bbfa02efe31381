// Limits on new node identities (Sybil resistance). A node id is a key thumbprint, free to mint, so what bounds them is
// what is not free: the address registrations come from, and the servers (origins) that can answer an endpoint
// challenge. Pure: the registry stores the buckets and counts.
import { parseIPv6 } from "../lib/ip-address.js";
import { HOUR_MS, parseRateLimit, type RateLimit } from "./token-bucket.js";

/**
 * Registrations (first heartbeats of ids the registry has never seen) per source address: 20 an hour, burst 10. An
 * operator starting a rack of nodes, or restarting them with new keys, registers a handful at once; an attacker gets
 * ~490 identities a day per address instead of thousands a minute, and each registration costs the gateway one
 * challenge request to a URL of the registrant's choice (reflected traffic), so the bound comes before it.
 */
export const DEFAULT_REGISTRATION_LIMIT: RateLimit = { refill: 20, periodMs: HOUR_MS, burst: 10 };

/**
 * Live node ids that may have proven a URL at one origin (host and port) at once. The stock agent answers challenges
 * for its own id only, so one origin serves one node; 4 leaves room for a node replaced under a new key while the old
 * id is still live (10 s) and for a proxy that routes by the node header, while one server can no longer prove
 * thousands of identities.
 */
export const DEFAULT_IDENTITIES_PER_ORIGIN = 4;

/** REGISTRATION_RATE_LIMIT="<per hour>/<burst>", e.g. "20/10"; malformed values fall back to the default. */
export function registrationRateLimit(env: { REGISTRATION_RATE_LIMIT?: string | undefined }): RateLimit {
  return parseRateLimit(env.REGISTRATION_RATE_LIMIT, HOUR_MS) ?? DEFAULT_REGISTRATION_LIMIT;
}

/** IDENTITIES_PER_ORIGIN="<n>", at least 1; malformed values fall back to the default. */
export function identitiesPerOrigin(env: { IDENTITIES_PER_ORIGIN?: string | undefined }): number {
  const match = /^\s*(\d+)\s*$/.exec(env.IDENTITIES_PER_ORIGIN ?? "");
  const n = match ? Number(match[1]) : 0;
  return n >= 1 && Number.isSafeInteger(n) ? n : DEFAULT_IDENTITIES_PER_ORIGIN;
}

/** Registrations with no source address (only outside Cloudflare, e.g. local workerd) share one bucket. */
export const UNKNOWN_SOURCE = "unknown";

/**
 * The bucket a registration is counted in, from CF-Connecting-IP: an IPv4 address, or an IPv6 address's /64 (one
 * subscriber's prefix: its 2⁶⁴ addresses cost nothing to rotate through).
 */
export function registrationSource(connectingIp: string | null): string {
  const ip = (connectingIp ?? "").trim().toLowerCase();
  if (ip === "") return UNKNOWN_SOURCE;
  if (!ip.includes(":")) return ip.slice(0, 64);
  const groups = parseIPv6(ip);
  if (!groups) return ip.slice(0, 64);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/**
 * What counts as one server: host and port, the scheme's default port filled in. Not the scheme (one server cannot
 * speak both on one port) and not the path (the challenge goes to the origin). Not the host alone either: agents on
 * one machine listen on different ports, and the bound per address is the registration rate.
 */
export function identityOrigin(url: string): string | null {
  try {
    const u = new URL(url);
    const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
    return `${u.hostname}:${port}`;
  } catch {
    return null;
  }
}
