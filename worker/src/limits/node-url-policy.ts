// Which node URLs the gateway may fetch. Nodes advertise their own URL, so without this check a node could
// make the Worker call loopback, private-network or cloud-metadata addresses on its behalf (SSRF).
// Hostnames are judged by name only: DNS is not resolved here.
import { parseIPv4, parseIPv6 } from "../lib/ip-address.js";

export interface NodeUrlRefusal {
  code: "forbidden_node_url";
  message: string;
}
export interface NodeUrlPolicy {
  allowPrivate: boolean;
}

type Range = "loopback" | "private" | "link-local" | "multicast" | "reserved";

const v4 = (a: number, b = 0, c = 0): number => ((a << 24) | (b << 16) | (c << 8)) >>> 0;

// [network, prefix length, category], IPv4 ranges a public service never lives in.
const REFUSED_V4: readonly (readonly [number, number, Range])[] = [
  [v4(0), 8, "reserved"], // "this network"; 0.0.0.0 reaches localhost on many stacks
  [v4(10), 8, "private"],
  [v4(100, 64), 10, "private"], // carrier-grade NAT
  [v4(127), 8, "loopback"],
  [v4(169, 254), 16, "link-local"], // includes cloud metadata, 169.254.169.254
  [v4(172, 16), 12, "private"],
  [v4(192, 0, 0), 24, "reserved"], // IETF protocol assignments
  [v4(192, 168), 16, "private"],
  [v4(198, 18), 15, "reserved"], // benchmarking
  [v4(224), 4, "multicast"],
  [v4(240), 4, "reserved"], // includes broadcast 255.255.255.255
];

// Special-use names that only ever resolve inside a machine or a local network.
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "home.arpa", "localdomain"];

export function nodeUrlPolicy(env: { ALLOW_PRIVATE_NODE_URLS?: string | undefined }): NodeUrlPolicy {
  const flag = env.ALLOW_PRIVATE_NODE_URLS;
  return { allowPrivate: flag === "true" || flag === "1" };
}

/** null when the gateway may call this URL; otherwise why not. */
export function checkNodeUrl(url: string, policy: NodeUrlPolicy): NodeUrlRefusal | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse("the URL is not a valid absolute URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return refuse(`the URL uses the "${parsed.protocol}" scheme; only http and https are allowed`);
  }
  if (parsed.username !== "" || parsed.password !== "")
    return refuse("the URL contains credentials (a username or password)");
  if (policy.allowPrivate) return null;
  const problem = hostProblem(parsed.hostname);
  return problem === null ? null : refuse(problem);
}

function refuse(message: string): NodeUrlRefusal {
  return { code: "forbidden_node_url", message };
}

function hostProblem(hostname: string): string | null {
  if (hostname.startsWith("[") && hostname.endsWith("]")) return ipv6Problem(hostname.slice(1, -1));
  const name = hostname.replace(/\.+$/, ""); // "localhost." is the same host as "localhost"
  const ip = parseIPv4(name);
  if (ip !== null) return rangeMessage(ipv4Range(ip), name);
  const labels = name.split(".");
  // WHATWG URL turns every numeric-looking host into dotted IPv4 or rejects it; fail closed on anything else.
  if (/^(0x[0-9a-f]*|[0-9]+)$/i.test(labels[labels.length - 1] ?? ""))
    return `the URL's host is not a canonical IP address (${name})`;
  const local = labels.length < 2 || LOCAL_SUFFIXES.some((s) => name === s || name.endsWith(`.${s}`));
  return local ? `the URL names a local hostname (${hostname})` : null;
}

function rangeMessage(range: Range | null, shown: string): string | null {
  return range === null ? null : `the URL points at a ${range} address (${shown})`;
}

function ipv4Range(ip: number): Range | null {
  const hit = REFUSED_V4.find(([net, bits]) => ip >>> (32 - bits) === net >>> (32 - bits));
  return hit ? hit[2] : null;
}

function ipv6Problem(text: string): string | null {
  const g = parseIPv6(text);
  if (g === null) return `the URL's host is not a valid IPv6 address (${text})`;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upper = g0 | g1 | g2 | g3 | g4; // first 80 bits
  if (upper === 0 && g5 === 0 && g6 === 0 && g7 <= 1) return rangeMessage(g7 === 0 ? "reserved" : "loopback", text);
  if ((g0 & 0xfe00) === 0xfc00) return rangeMessage("private", text); // unique-local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return rangeMessage("link-local", text);
  if ((g0 & 0xff00) === 0xff00) return rangeMessage("multicast", text);
  // IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96 and NAT64 64:ff9b::/96 all reach the embedded IPv4 address.
  const mapped = upper === 0 && (g5 === 0xffff || g5 === 0);
  const nat64 = g0 === 0x64 && g1 === 0xff9b && (g2 | g3 | g4 | g5) === 0;
  if (!mapped && !nat64) return null;
  const embedded = ((g6 << 16) | g7) >>> 0;
  const shown = `${text}, which embeds ${[24, 16, 8, 0].map((s) => (embedded >>> s) & 255).join(".")}`;
  return rangeMessage(ipv4Range(embedded), shown);
}
