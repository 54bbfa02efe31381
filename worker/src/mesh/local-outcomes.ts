// This isolate's outcomes on their way to the registry (routing/outcome-memory.ts), for its snapshot refreshes.
import { OutcomeMemory, type Outcome } from "../routing/index.js";

const isolateOutcomes = new OutcomeMemory();

export function rememberOutcome(outcome: Outcome): void {
  isolateOutcomes.remember(outcome);
}

export function outcomesWritten(outcomes: readonly Outcome[], at: number): void {
  isolateOutcomes.written(outcomes, at);
}

/** Outcomes a registry snapshot requested at `requestedAt` may not include yet. */
export function outcomesNotIn(requestedAt: number): Outcome[] {
  return isolateOutcomes.notIn(requestedAt);
}

/** Tests: forget everything. */
export function forgetOutcomes(): void {
  isolateOutcomes.forget();
}
