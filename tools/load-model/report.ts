// The load model's table: per kind of Durable Object, how many were called, the calls per second into all of them and
// into the busiest, against Cloudflare's documented soft limit and the issue's goal (a quarter of it).
import type { LoadConfig } from "./config.js";
import type { KindLoad } from "./rpc-counter.js";

/** Cloudflare's documented soft limit for one Durable Object, requests per second. */
export const SOFT_LIMIT_RPS = 1_000;
/** Issue 17's goal: no object above a quarter of the soft limit. */
export const GOAL_RPS = SOFT_LIMIT_RPS / 4;

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const small = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 2 });

/** A rate, to a tenth; one below 1/s (an admin's call a minute) to two significant digits rather than "0". */
function rate(perSecond: number): string {
  return perSecond < 1 ? small.format(perSecond) : one.format(perSecond);
}

export function withinGoal(load: KindLoad): boolean {
  return load.busiest.perSecond <= GOAL_RPS;
}

/** The command that reproduces a run (only the flags that differ from the production figures). */
export function reproduceCommand(config: LoadConfig, production: LoadConfig): string {
  const flags: string[] = [];
  const pairs: [string, number, number][] = [
    ["isolates", config.isolates, production.isolates],
    ["colos", config.colos, production.colos],
    ["rps", config.rps, production.rps],
    ["keys", config.keys, production.keys],
    ["nodes", config.nodes, production.nodes],
    ["cells", config.cells, production.cells],
    ["warmup", config.warmupSeconds, production.warmupSeconds],
    ["seconds", config.seconds, production.seconds],
    ["rtt", config.rttMs, production.rttMs],
    ["seed", config.seed, production.seed],
  ];
  for (const [flag, value, usual] of pairs) if (value !== usual) flags.push(`--${flag} ${value}`);
  return `npm run load-model${flags.length > 0 ? ` -- ${flags.join(" ")}` : ""}`;
}

export function describeConfig(c: LoadConfig): string {
  return (
    `${int.format(c.isolates)} isolates in ${int.format(c.colos)} colos, ${int.format(c.rps)} req/s, ` +
    `${int.format(c.keys)} keys (one makes ${Math.round(c.hotShare * 100)}% of requests), ` +
    `${int.format(c.nodes)} nodes, ${c.cells} admission cells; answers ${c.answerMs.min}–${c.answerMs.max} ms, ` +
    `${c.rttMs} ms per object round trip; ${c.warmupSeconds} s warm-up, ${c.seconds} s counted (seed ${c.seed})`
  );
}

/** A markdown table with its columns padded as the formatter (biome) writes them, so a generated file stays as is. */
export function markdownTable(header: readonly string[], rows: readonly string[][], right: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(" | ")} |`;
  const rule = widths.map((w, i) => (right[i] ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(header), line(rule), ...rows.map(line)].join("\n");
}

export function formatTable(loads: readonly KindLoad[]): string {
  const header = [
    "object kind",
    "objects",
    "total req/s",
    "busiest object req/s",
    `% of ${int.format(SOFT_LIMIT_RPS)}`,
    "within goal?",
    "busiest object (its busiest second)",
  ];
  const rows = loads.map((l) => [
    l.kind,
    int.format(l.objects),
    int.format(l.totalPerSecond),
    int.format(l.busiest.perSecond),
    `${int.format((l.busiest.perSecond / SOFT_LIMIT_RPS) * 100)}%`,
    withinGoal(l) ? "yes" : "**no**",
    `\`${l.busiest.name}\` (${int.format(l.busiest.peakSecond)})`,
  ]);
  return markdownTable(header, rows, [false, true, true, true, true, false, false]);
}

/** Calls per second by method, per kind: what the table's totals are made of. */
export function formatMethods(loads: readonly KindLoad[]): string {
  return loads
    .map((l) => {
      const methods = Object.entries(l.methods)
        .sort(([, a], [, b]) => b - a)
        .map(([m, perSecond]) => `${m} ${rate(perSecond)}`)
        .join(", ");
      return `- ${l.kind}: ${methods} (req/s, all objects)`;
    })
    .join("\n");
}

export interface DesignReport {
  title: string;
  config: LoadConfig;
  production: LoadConfig;
  loads: readonly KindLoad[];
}

export function formatReport(r: DesignReport): string {
  const over = r.loads.filter((l) => !withinGoal(l)).map((l) => l.kind);
  return [
    `## ${r.title}`,
    "",
    describeConfig(r.config),
    "",
    formatTable(r.loads),
    "",
    `Goal: no object above ${int.format(GOAL_RPS)} req/s (a quarter of the ${int.format(SOFT_LIMIT_RPS)} req/s soft limit). ` +
      (over.length === 0 ? "Met." : `Not met by: ${over.join(", ")}.`),
    "",
    "By method:",
    "",
    formatMethods(r.loads),
    "",
    `Reproduce: \`${reproduceCommand(r.config, r.production)}\``,
    "",
  ].join("\n");
}
