// Where the request path sends what it learned, off the response path: usage to each key's account directly (which
// charges it and passes billable receipts on to the nodes' earnings) only as the fallback for a usage row whose
// admission cell could not be reached (rows normally ride on the slot's release: durable/admission-cell/usage-wal.ts),
// late outcomes (timeouts judged once their request ended)
// to the node's admission cell, which learns from them at once and passes them on to the registry.
import type { UsageEntry } from "../billing/records.js";
import { admissionCell, admissionCells, keyAccount } from "../durable/names.js";
import { groupBy } from "../lib/group-by.js";
import { Batcher } from "../lib/batcher.js";
import { cellOf, type Outcome } from "../routing/index.js";

/** Long enough that a busy isolate writes a few times a second, short enough that usage shows up promptly. */
const BATCH_DELAY_MS = 200;

const usageBatcher = new Batcher<UsageEntry>({
  delayMs: BATCH_DELAY_MS,
  maxItems: 500,
  // Settling is idempotent on request id, so a batch retried after a lost reply is never charged twice.
  async write(rows, env) {
    await Promise.all(
      [...groupBy(rows, (r) => r.key_id)].map(([keyId, keyRows]) => keyAccount(env, keyId).record(keyRows, Date.now())),
    );
  },
});

/**
 * `promptly`: the key has limits, so its reservation must end as soon as the answer does (a sequential client's next
 * request would otherwise find its budget still held): the row is recorded at once rather than batched. Should that
 * fail, the batch retries it.
 */
export function recordUsage(row: UsageEntry, env: Env, ctx: ExecutionContext, promptly = false): void {
  if (!promptly) {
    usageBatcher.add(row, env, ctx);
    return;
  }
  ctx.waitUntil(
    keyAccount(env, row.key_id)
      .record([row], Date.now())
      .then(
        () => {},
        () => usageBatcher.add(row, env, ctx),
      ),
  );
}

/**
 * A late outcome (a timeout that counts against its node, known once its request ended) goes to the node's cell at
 * once, not batched: it is rare, and the cell must stop choosing a hanging node before the next request asks.
 */
export function reportOutcome(outcome: Outcome, env: Env, ctx: ExecutionContext): void {
  ctx.waitUntil(
    admissionCell(env, cellOf(outcome.nodeId, admissionCells(env)))
      .observe([outcome])
      .catch((err: unknown) => console.error("reporting an outcome to its admission cell failed", String(err))),
  );
}
