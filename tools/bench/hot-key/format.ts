// The hot-key bench's section of the output: what was measured, each figure's source, and every failed check.
import type { AccountCalls } from "./account-calls.js";
import type { LoopFigures } from "./checks.js";
import type { HotKeyResult } from "./hot-key-bench.js";
import type { KeyRun } from "./rate.js";

const n = (v: number) => Math.round(v).toLocaleString("en-US");
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const outcomes = (f: LoopFigures) => f.outcomes.map(([label, count]) => `${label} ×${n(count)}`).join(", ");
const calls = (c: AccountCalls) => `reserve ${c.reserve}, lease ${c.lease}, release ${c.release}, record ${c.record}`;

function loopLine(label: string, f: LoopFigures): string {
  return `${label.padEnd(32)} c=${String(f.concurrency).padEnd(4)} ${n(f.perSecond).padStart(6)} req/s  p50 ${ms(f.p50Ms).padStart(6)} ms  p99 ${ms(f.p99Ms).padStart(6)} ms  (${outcomes(f)})`;
}

function keyLines(label: string, run: KeyRun): string[] {
  const view = run.spent === null ? "" : `; account once idle: spent ${n(run.spent)}, reserved ${n(run.reserved ?? 0)}`;
  return [
    loopLine(label, run.loop),
    `${"".padEnd(32)} account calls ${run.callsPerRequest.toFixed(4)} per answered request (${calls(run.calls)})${view}`,
  ];
}

function rateLines(r: HotKeyResult["rate"]): string[] {
  return [
    "1. rate: one key, budget + rpm + tpm far from refusing; closed loop rising until throughput stops rising",
    ...r.ramp.map((step) => loopLine("   ramp", step)),
    ...keyLines("   limited key (fresh)", r.limited),
    ...keyLines("   baseline: key without limits", r.baseline),
    `   limited ÷ baseline: ${(r.limited.loop.perSecond / r.baseline.loop.perSecond).toFixed(2)}× req/s`,
  ];
}

function budgetLines(b: HotKeyResult["budget"]): string[] {
  const left = (spent: number) => ((b.budget - spent) / b.worstCase).toFixed(2);
  return [
    `2. budget ${n(b.budget)} micro-units (≈ half the loop at the measured cost; worst case held ${n(b.worstCase)} a request)`,
    loopLine("   loop", b.loop),
    `   after the loop (isolates idle, usage flushed): spent ${n(b.afterLoop.spent)} (${pct(b.afterLoop.spent / b.budget)} of budget), reserved ${n(b.afterLoop.reserved)}, account usage cost ${n(b.afterLoop.usageCost)}`,
    `   sequential tail: ${b.tail.answered} more answered, ${b.tail.refused} refused`,
    `   final: spent ${n(b.final.spent)} ≤ budget ${n(b.budget)}: ${b.final.spent <= b.budget ? "yes" : "NO"}; ${pct(b.final.spent / b.budget)} of budget spent, ${left(b.final.spent)} worst cases left; reserved ${n(b.final.reserved)}; account usage cost ${n(b.final.usageCost)} over ${n(b.final.requests)} requests`,
    `   account calls ${b.callsPerRequest.toFixed(4)} per answered request`,
  ];
}

function limitLines(limits: HotKeyResult["limits"]): string[] {
  return [
    "3. rate limits (allowance: the limit, its bucket full at the key's creation, plus its refill until the window ended)",
    ...limits.flatMap((l) => [
      loopLine(`   ${l.dimension} ${n(l.limit)}, ${l.windowMs / 1000} s`, l.loop),
      `   ${"".padEnd(29)} ${l.dimension === "rpm" ? "requests" : "tokens"} used ${n(l.used)} ≤ allowance ${n(l.allowance)}: ${l.used <= l.allowance ? "yes" : "NO"}; account calls ${l.callsPerRequest.toFixed(4)} per answered request`,
    ]),
  ];
}

export function formatHotKey(r: HotKeyResult): string {
  const m = r.machine;
  return [
    `Hot key over 4 isolates (${r.command}; ${r.date})`,
    `machine: ${m.cores} cores ${m.cpuModel}, Node ${m.node}, workerd ${m.workerd}, load average ${m.loadAverage.toFixed(2)} at the start`,
    ...rateLines(r.rate),
    ...budgetLines(r.budget),
    ...limitLines(r.limits),
    r.failures.length === 0
      ? "checks: all held"
      : `FAILED (${r.failures.length}):\n${r.failures.map((f) => `  - ${f}`).join("\n")}`,
    "",
  ].join("\n");
}
