// Outcomes this isolate observed, remembered until the registry has them. A snapshot refresh replaces the routing
// table with the registry's view; outcomes still on their way there (batched, ~200 ms) are applied again to the new
// table, so an ejection seen here is not forgotten for a second. At worst one is counted twice, never lost.
import type { Outcome } from "../routing/index.js";

interface Entry {
  outcome: Outcome;
  /** When the registry confirmed the batch holding it; null until then. */
  writtenAt: number | null;
}

/** Written outcomes are kept this long, in case a snapshot read that began before the write returns after it. */
const KEEP_WRITTEN_MS = 10_000;
/** A registry that stays unreachable must not grow this without bound. */
const MAX_ENTRIES = 10_000;

let entries: Entry[] = [];
const byOutcome = new WeakMap<Outcome, Entry>();

export function rememberOutcome(outcome: Outcome): void {
  const entry = { outcome, writtenAt: null };
  entries.push(entry);
  byOutcome.set(outcome, entry);
  if (entries.length > MAX_ENTRIES) entries = entries.slice(-MAX_ENTRIES);
}

export function outcomesWritten(outcomes: readonly Outcome[], at: number): void {
  for (const outcome of outcomes) {
    const entry = byOutcome.get(outcome);
    if (entry) entry.writtenAt = at;
  }
  entries = entries.filter((e) => e.writtenAt === null || at - e.writtenAt < KEEP_WRITTEN_MS);
}

/** Outcomes a registry snapshot requested at `requestedAt` may not include yet. */
export function outcomesNotIn(requestedAt: number): Outcome[] {
  return entries.filter((e) => e.writtenAt === null || e.writtenAt >= requestedAt).map((e) => e.outcome);
}

/** Tests: forget everything. */
export function forgetOutcomes(): void {
  entries = [];
}
