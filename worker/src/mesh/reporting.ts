// Where the request path sends what it learned, off the response path: usage rows to each key's ledger, dispatch
// outcomes to the registry.
import { nodeRegistry, usageLedger } from "../durable/names.js";
import type { Outcome } from "../routing/index.js";
import type { UsageRecord } from "../durable/usage-ledger.js";
import { Batcher, groupBy } from "./batcher.js";
import { outcomesWritten, rememberOutcome } from "./local-outcomes.js";

/** Long enough that a busy isolate writes a few times a second, short enough that usage shows up promptly. */
const BATCH_DELAY_MS = 200;

const usageBatcher = new Batcher<UsageRecord>({
  delayMs: BATCH_DELAY_MS,
  maxItems: 500,
  async write(rows, env) {
    await Promise.all([...groupBy(rows, (r) => r.key_id)].map(([keyId, keyRows]) => usageLedger(env, keyId).record(keyRows)));
  },
});

const outcomeBatcher = new Batcher<Outcome>({
  delayMs: BATCH_DELAY_MS,
  maxItems: 500,
  async write(outcomes, env) {
    await nodeRegistry(env).recordOutcomes(outcomes, Date.now());
    outcomesWritten(outcomes, Date.now());
  },
});

export function recordUsage(row: UsageRecord, env: Env, ctx: ExecutionContext): void {
  usageBatcher.add(row, env, ctx);
}

export function reportOutcome(outcome: Outcome, env: Env, ctx: ExecutionContext): void {
  rememberOutcome(outcome);
  outcomeBatcher.add(outcome, env, ctx);
}
