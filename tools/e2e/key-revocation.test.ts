// A key in use in every isolate, revoked through one of them, is refused by all of them within 2 s: the key-changes
// feed reaches isolates that keep the key cached for a minute (worker/src/keys/key-cache.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { ISOLATE_HEADER } from "../gateway/isolates.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const ISOLATES = 4;
/** The acceptance bound (MAX_STALENESS_MS in key-cache.ts). */
const BOUND_MS = 2_000;
/**
 * What a loaded 2-core machine adds: one polling round over the isolates, and a scheduling delay in workerd. This is
 * not a claim about speed: 2 s is the bound the design guarantees (an entry is never used once the isolate's feed read
 * is 2 s old), so a slower machine can only make isolates refuse *sooner* relative to their reads, never later; the
 * allowance covers only the time between an isolate's decision and this test seeing it.
 */
const ALLOWANCE_MS = 750;

async function models(gateway: Gateway, key: string): Promise<{ isolate: string; status: number }> {
  const res = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  await res.body?.cancel();
  return { isolate: res.headers.get(ISOLATE_HEADER) ?? "?", status: res.status };
}

describe("revoking a key used in every isolate", E2E, () => {
  const vars = generateDevVars();
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await startGateway({ vars, isolates: ISOLATES, sink: () => {} });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => await gateway?.stop(), SETUP_TIMEOUT_MS);

  it("is refused by all of them within 2 s", async () => {
    const { id, key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "revoked-everywhere");
    // In use everywhere: each isolate has the key cached and reads the feed.
    const accepted = new Set<string>();
    for (let i = 0; i < 4 * ISOLATES; i++) {
      const { isolate, status } = await models(gateway, key);
      expect(status).toBe(200);
      accepted.add(isolate);
    }
    expect(accepted.size).toBe(ISOLATES);

    const revoke = await fetch(`${gateway.url}/admin/keys/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${vars.ADMIN_TOKEN}` },
    });
    expect(revoke.status).toBe(200);
    const revokedAt = Date.now();

    // Poll every isolate in turn until each has refused three times running; note the last time each accepted.
    const lastAccepted = new Map<string, number>();
    const refusedRun = new Map<string, number>();
    while ([...refusedRun.values()].filter((n) => n >= 3).length < ISOLATES) {
      if (Date.now() - revokedAt > 10_000) throw new Error(`still accepted: ${JSON.stringify([...lastAccepted])}`);
      const { isolate, status } = await models(gateway, key);
      if (status === 200) {
        lastAccepted.set(isolate, Date.now() - revokedAt);
        refusedRun.set(isolate, 0);
      } else {
        expect(status).toBe(401);
        refusedRun.set(isolate, (refusedRun.get(isolate) ?? 0) + 1);
      }
    }
    const latest = Math.max(0, ...lastAccepted.values());
    console.log(
      `revoked key: last accepted ${latest} ms after the revocation answered ` +
        `(per isolate: ${JSON.stringify(Object.fromEntries(lastAccepted))}); bound ${BOUND_MS} ms`,
    );
    expect(latest).toBeLessThanOrEqual(BOUND_MS + ALLOWANCE_MS);
  });
});
