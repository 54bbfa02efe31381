// A Server-Timing header read back by a client of the local gateway (tests, the bench).

/** `name;dur=1.5;desc="x", other;dur=2` → {name: 1.5, other: 2}; entries without a duration are left out. */
export function parseServerTiming(header: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of (header ?? "").split(",")) {
    const [name, ...params] = entry.trim().split(";");
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
    if (name && dur) out.set(name.trim(), Number(dur.slice("dur=".length)));
  }
  return out;
}
