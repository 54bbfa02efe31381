// Outcomes observed by one table's owner (an isolate, an admission cell), remembered until the registry has them. A
// refresh from the registry replaces the routing table with the registry's view; outcomes still on their way there
// (batched, ~1 s) are applied again to the new table, so an ejection seen here is not forgotten meanwhile. At
// worst one is counted twice, never lost.
import type { Outcome } from "./outcome.js";

interface Entry {
  outcome: Outcome;
  /** When the registry confirmed the batch holding it; null until then. */
  writtenAt: number | null;
}

/** Written outcomes are kept this long, in case a snapshot read that began before the write returns after it. */
const KEEP_WRITTEN_MS = 10_000;
/** A registry that stays unreachable must not grow this without bound. */
const MAX_ENTRIES = 10_000;

export class OutcomeMemory {
  private entries: Entry[] = [];
  private readonly byOutcome = new WeakMap<Outcome, Entry>();

  remember(outcome: Outcome): void {
    const entry = { outcome, writtenAt: null };
    this.entries.push(entry);
    this.byOutcome.set(outcome, entry);
    if (this.entries.length > MAX_ENTRIES) this.entries = this.entries.slice(-MAX_ENTRIES);
  }

  written(outcomes: readonly Outcome[], at: number): void {
    for (const outcome of outcomes) {
      const entry = this.byOutcome.get(outcome);
      if (entry) entry.writtenAt = at;
    }
    this.entries = this.entries.filter((e) => e.writtenAt === null || at - e.writtenAt < KEEP_WRITTEN_MS);
  }

  /** Outcomes a registry read requested at `requestedAt` may not include yet. */
  notIn(requestedAt: number): Outcome[] {
    return this.entries.filter((e) => e.writtenAt === null || e.writtenAt >= requestedAt).map((e) => e.outcome);
  }

  forget(): void {
    this.entries = [];
  }
}
