// Usage rows as the request path now hands them over: written ahead in an admission cell with a lease's release, then
// flushed by the cell's alarm to the keys' accounts, the earnings shards and the global roll-up.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { UsageEntry } from "../src/billing/records.js";

/** A cell of its own (not one the request path routes with), so tests sharing storage do not share a write-ahead. */
export function testCell(name = crypto.randomUUID()) {
  return env.CELLS.get(env.CELLS.idFromName(`test-wal:${name}`));
}

/** Rows not yet acknowledged by all three destinations. */
export function walRows(cell: DurableObjectStub<import("../src/index.js").AdmissionCell>): Promise<number> {
  return runInDurableObject(
    cell,
    (_obj, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM usage_wal WHERE flushed_at IS NULL").one().n,
  );
}

/** Until every row of the cell has been acknowledged by all three destinations (the alarm may have run already). */
export async function flushed(cell: DurableObjectStub<import("../src/index.js").AdmissionCell>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await runDurableObjectAlarm(cell);
    if ((await walRows(cell)) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the cell's write-ahead did not drain");
}

/** Writes the rows ahead (as released leases that no longer exist) and waits until they reached every destination. */
export async function writeAhead(entries: UsageEntry[], prompt = false): Promise<void> {
  const cell = testCell();
  await cell.release(
    entries.map((entry) => ({ leaseId: `gone-${entry.request_id}`, outcome: null, usage: { entry, prompt } })),
    Date.now(),
  );
  await flushed(cell);
}
