// The chaos run's settlement also pays the receipts of the runs before it on the same gateway: a close sweeps in every
// receipt from before its end that no close has paid, and a period is at least an hour, longer than the whole load
// test. Those receipts are told apart by request id, so the ledger check judges the chaos run alone, and each of them
// is checked to be settled exactly once too.
import type { Settled } from "./ledger-check.js";

/** One leaf of the statement, as read from its proofs. */
export interface SettledLeaf {
  requestId: string;
  amount: number;
}

export interface SplitSettlement {
  /** The leaves of the chaos run (every leaf not billed to an earlier run), for checkLedger. */
  chaos: Settled;
  /** Billable rows of the earlier runs that the statement does not hold. */
  earlierMissing: string[];
  /** Earlier runs' request ids the statement holds more than once. */
  earlierTwice: string[];
  earlierSettled: number;
}

export function splitSettlement(leaves: readonly SettledLeaf[], earlierBillable: ReadonlySet<string>): SplitSettlement {
  const chaos = leaves.filter((l) => !earlierBillable.has(l.requestId));
  const counts = new Map<string, number>();
  for (const l of leaves)
    if (earlierBillable.has(l.requestId)) counts.set(l.requestId, (counts.get(l.requestId) ?? 0) + 1);
  return {
    chaos: {
      requestIds: chaos.map((l) => l.requestId),
      receipts: chaos.length,
      amount: chaos.reduce((n, l) => n + l.amount, 0),
    },
    earlierMissing: [...earlierBillable].filter((id) => !counts.has(id)),
    earlierTwice: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    earlierSettled: [...counts.values()].reduce((n, c) => n + c, 0),
  };
}
