// IP address text to numbers: dotted-decimal IPv4, and IPv6 with "::" compression and a dotted IPv4 tail. Anything
// else is null.

/** The address as a 32-bit unsigned number, or null: exactly four dotted decimal octets. */
export function parseIPv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** Eight 16-bit groups, or null. Handles "::" compression and a dotted IPv4 tail. */
export function parseIPv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function groups(part: string): number[] | null {
  if (part === "") return [];
  const out: number[] = [];
  const pieces = part.split(":");
  for (const [i, piece] of pieces.entries()) {
    const ip = i === pieces.length - 1 ? parseIPv4(piece) : null;
    if (ip !== null) out.push(ip >>> 16, ip & 0xffff);
    else if (/^[0-9a-f]{1,4}$/i.test(piece)) out.push(parseInt(piece, 16));
    else return null;
  }
  return out;
}
