// Slices of a key's account lent to isolates (billing/slices.ts), against the real KeyAccount: what a holder leases,
// spends and gives back, a holder that dies, the object restarting, and many holders at once; the budget is never
// overspent, counting every outstanding slice as reserved.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KeyPurse, type SliceAccount } from "../src/billing/key-purse.js";
import type { KeyLimits } from "../src/billing/records.js";
import { RESERVATION_TTL_MS } from "../src/billing/reservation.js";
import { NOTHING, SLICE_GRACE_MS, SLICE_LEASE_MS, type Figures, type LeaseRequest } from "../src/billing/slices.js";
import { KeyAccount } from "../src/durable/key-account/key-account.js";
import { keyAccount } from "../src/durable/names.js";
import { billable } from "./usage-entries.js";

const T = Date.now();
let counter = 0;
async function account(limits: Partial<KeyLimits>) {
  const stub = keyAccount(env, `slices-test-${++counter}-${T}`);
  await stub.configure(limits, T);
  return stub;
}
const fig = (amount: number, requests = 0, tokens = 0): Figures => ({ amount, requests, tokens });
const lease = (sliceId: string, seq: number, over: Partial<LeaseRequest> = {}): LeaseRequest => ({
  sliceId,
  seq,
  report: { returned: NOTHING, debtTokens: 0 },
  want: NOTHING,
  need: null,
  close: false,
  ...over,
});
const granted = (reply: Awaited<ReturnType<KeyAccount["lease"]>>) => {
  if (!reply.ok) throw new Error(`refused: ${reply.refusal.message}`);
  return reply.slice.granted;
};

describe("KeyAccount slices", () => {
  it("lend part of the budget, charge answers against it, and take back the rest", async () => {
    const stub = await account({ budget: 1_000, rpm: 100 });
    const g = granted(await stub.lease(lease("s1", 0, { want: fig(800, 40), need: fig(100, 1) }), T));
    // The request's 100 and 1, then a quarter of what is free (900 and 99) in whole requests of its size.
    expect(g).toEqual(fig(300, 25, 0));
    expect(await stub.view(T)).toMatchObject({ spent: 0, reserved: 300 });

    expect(await stub.record([billable("a1", 60, { slice_id: "s1" })], T)).toBe(1);
    expect(await stub.view(T)).toMatchObject({ spent: 60, reserved: 240 });

    const back = await stub.lease(
      lease("s1", 1, { report: { returned: fig(240, 24), debtTokens: 0 }, close: true }),
      T,
    );
    expect(back.ok).toBe(true);
    expect(await stub.view(T)).toMatchObject({ spent: 60, reserved: 0 });
    // The 24 unused requests went back to the rpm bucket.
    expect((await stub.reserve({ request_id: "next", amount: 940, tokens: 0 }, T)).headers).toMatchObject({
      "x-ratelimit-remaining-requests": "98",
    });
  });

  it("grant nothing more for a retried call, and apply a retried report once", async () => {
    const stub = await account({ budget: 1_000 });
    const first = granted(await stub.lease(lease("s1", 0, { want: fig(400), need: fig(100) }), T));
    const again = granted(await stub.lease(lease("s1", 0, { want: fig(400), need: fig(100) }), T));
    expect(again).toEqual(first);
    const report = { returned: fig(50), debtTokens: 0 };
    await stub.lease(lease("s1", 1, { report }), T);
    await stub.lease(lease("s1", 1, { report }), T);
    expect((await stub.view(T)).reserved).toBe(first.amount - 50);
  });

  it("refuse the request that asked exactly as a reservation would, counting other slices as held", async () => {
    const stub = await account({ budget: 1_000 });
    granted(await stub.lease(lease("a", 0, { want: fig(10_000), need: fig(600) }), T));
    const refused = await stub.lease(lease("b", 0, { want: fig(10_000), need: fig(401) }), T);
    expect(refused).toMatchObject({ ok: false, refusal: { code: "insufficient_quota", budgetLeft: 400 } });
    expect((await stub.reserve({ request_id: "r", amount: 401, tokens: 0 }, T)).ok).toBe(false);
  });

  it("keep a dead holder's slice held until its lease and the reservation TTL have passed, then free it", async () => {
    const stub = await account({ budget: 1_000 });
    const g = granted(await stub.lease(lease("dead", 0, { want: fig(1_000), need: fig(1_000) }), T));
    expect(g.amount).toBe(1_000);
    // An answer admitted from it may still stream an hour on: its record must find the budget still held.
    const stillHeld = T + RESERVATION_TTL_MS + SLICE_LEASE_MS + SLICE_GRACE_MS - 1;
    expect((await stub.reserve({ request_id: "r1", amount: 1, tokens: 0 }, stillHeld)).ok).toBe(false);
    expect(await stub.record([billable("late", 700, { slice_id: "dead" })], stillHeld)).toBe(1);
    expect(await stub.view(stillHeld)).toMatchObject({ spent: 700, reserved: 300 });
    const lapsed = stillHeld + 1;
    expect(await stub.view(lapsed)).toMatchObject({ spent: 700, reserved: 0 });
    expect((await stub.reserve({ request_id: "r2", amount: 300, tokens: 0 }, lapsed)).ok).toBe(true);
  });

  it("survive the object restarting: slices stay on disk and still count", async () => {
    const stub = await account({ budget: 1_000, rpm: 10 });
    granted(await stub.lease(lease("s1", 0, { want: fig(1_000, 10), need: fig(200, 1) }), T));
    const before = await stub.view(T);
    const after = await runInDurableObject(stub, async (_obj, state) => {
      const restarted = new KeyAccount(state, env);
      const view = restarted.view(T);
      const retry = restarted.lease(lease("s1", 0, { want: fig(1_000, 10), need: fig(200, 1) }), T);
      return { view, retry };
    });
    expect(after.view).toEqual(before);
    expect(after.retry.ok && after.retry.slice.granted.amount).toBe(before.reserved);
  });

  it("never lend more than the budget to many holders at once", async () => {
    const stub = await account({ budget: 10_000, rpm: 1_000 });
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        stub.lease(lease(`h${i}`, 0, { want: fig(5_000, 100), need: fig(100, 1) }), T),
      ),
    );
    const lent = replies.reduce((n, r) => n + (r.ok ? r.slice.granted.amount : 0), 0);
    expect(lent).toBeLessThanOrEqual(10_000);
    expect(replies.some((r) => !r.ok && r.refusal.code === "insufficient_quota")).toBe(true);
    expect((await stub.view(T)).reserved).toBe(lent);
  });
});

describe("KeyPurse over the real KeyAccount", () => {
  it("admits a burst from one lease, records against the slice, and stays within the budget", async () => {
    const stub = await account({ budget: 5_000, rpm: 1_000, tpm: 100_000 });
    let ids = 0;
    // The account's calls, counted where the purse makes them.
    const calls = { lease: 0, reserve: 0 };
    const counted: SliceAccount = {
      lease: (l, at) => {
        calls.lease++;
        return stub.lease(l, at);
      },
      reserve: (r, at) => {
        calls.reserve++;
        return stub.reserve(r, at);
      },
      release: (ids, at) => stub.release(ids, at),
    };
    const purse = new KeyPurse({
      limits: { budget: 5_000, rpm: 1_000, tpm: 100_000 },
      account: () => counted,
      newId: () => `purse-slice-${++ids}`,
      wait: () => new Promise<number>(() => {}),
    });
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 80 }, (_, i) => purse.reserve({ request_id: `p${i}`, amount: 100, tokens: 50 }, now)),
    );
    const admitted = results.flatMap((r, i) => (r.ok ? [`p${i}`] : []));
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(50);
    expect(results.every((r) => r.ok || r.code === "insufficient_quota")).toBe(true);
    expect(calls.lease + calls.reserve).toBeLessThan(20);
    const entries = admitted.map((id) => billable(id, 100, { slice_id: purse.sliceOf(id) }));
    await stub.record(entries, now);
    const view = await stub.view(now);
    expect(view.spent).toBe(admitted.length * 100);
    expect(view.spent + view.reserved).toBeLessThanOrEqual(5_000);
  });
});
