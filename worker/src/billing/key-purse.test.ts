import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyPurse, PURSE_IDLE_MS } from "./key-purse.js";
import { MemoryAccount } from "./memory-account.js";
import type { KeyLimits, ReserveResult } from "./records.js";
import { RESERVATION_TTL_MS } from "./reservation.js";
import { SLICE_GRACE_MS, SLICE_LEASE_MS } from "./slices.js";

const T0 = 1_700_000_000_000;
const limits = (l: Partial<KeyLimits>): KeyLimits => ({ budget: null, rpm: null, tpm: null, ...l });

/** Idle waits resolve only when the test says time has passed. */
class FakeClock {
  now = T0;
  private waits: { at: number; resolve: (now: number) => void }[] = [];
  wait = (ms: number) => new Promise<number>((resolve) => this.waits.push({ at: this.now + ms, resolve }));
  async advance(ms: number): Promise<void> {
    this.now += ms;
    const due = this.waits.filter((w) => w.at <= this.now);
    this.waits = this.waits.filter((w) => w.at > this.now);
    for (const w of due) w.resolve(this.now);
    // Let the give-backs' lease calls finish.
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}

let ids = 0;
function purseOver(account: MemoryAccount, clock: FakeClock, l = account.limits) {
  return new KeyPurse({ limits: l, account: () => account, newId: () => `slice-${++ids}`, wait: clock.wait });
}
const req = (id: string, amount: number, tokens = 0) => ({ request_id: id, amount, tokens });

/** Records an admitted request's cost at the account, then settles it in its purse (as the record step does). */
function answer(account: MemoryAccount, purse: KeyPurse, id: string, cost: number, tokens: number, now: number) {
  account.record({ request_id: id, cost, total_tokens: tokens, slice_id: purse.sliceOf(id) }, now);
  return purse.settle(id, cost, tokens, now);
}

const codes = (results: ReserveResult[]) => results.map((r) => (r.ok ? "ok" : r.code));

describe("KeyPurse", () => {
  it("reserves a lone request exactly at the account, leasing nothing", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000 }), T0);
    const purse = purseOver(account, clock);
    expect((await purse.reserve(req("a", 100), T0)).ok).toBe(true);
    expect(purse.sliceOf("a")).toBeNull();
    expect(account.calls).toMatchObject({ reserve: 1, lease: 0 });
  });

  it("stops waiting for a lease call that never answers after 5 s (its request may be gone) and asks itself", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000_000 }), T0);
    let calls = 0;
    // The first lease call never settles, as a call whose request ended may not in workerd.
    const hanging = {
      reserve: account.reserve.bind(account),
      release: account.release.bind(account),
      lease: (...args: Parameters<MemoryAccount["lease"]>) =>
        ++calls === 1 ? new Promise<never>(() => {}) : account.lease(...args),
    };
    const purse = new KeyPurse({ limits: account.limits, account: () => hanging, newId: () => "s", wait: clock.wait });
    void purse.reserve(req("lost", 100), T0);
    void purse.reserve(req("lost-2", 100), T0);
    let answered: ReserveResult | null = null;
    void purse.reserve(req("next", 100), T0).then((r) => {
      answered = r;
    });
    await clock.advance(4_999);
    expect(answered).toBeNull();
    await clock.advance(1);
    expect(answered).toMatchObject({ ok: true });
  });

  it("admits a burst of 50 with a lease or two, not 50 round trips", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000_000, rpm: 10_000 }), T0);
    const purse = purseOver(account, clock);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => purse.reserve(req(`r${i}`, 100), T0)));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(account.calls.reserve + account.calls.lease).toBeLessThanOrEqual(3);
    expect(account.committed(T0)).toBeGreaterThanOrEqual(5_000);
  });

  it("refuses past the budget with insufficient_quota, counting slices held elsewhere, and spares the account", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000 }), T0);
    const a = purseOver(account, clock);
    const b = purseOver(account, clock);
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => a.reserve(req(`a${i}`, 100), T0)));
    const second = await Promise.all(Array.from({ length: 20 }, (_, i) => b.reserve(req(`b${i}`, 100), T0)));
    const all = [...first, ...second];
    expect(all.filter((r) => r.ok).length).toBeLessThanOrEqual(10);
    expect(new Set(codes(all))).toEqual(new Set(["ok", "insufficient_quota"]));
    expect(account.committed(T0)).toBeLessThanOrEqual(1_000);
    const calls = account.calls.reserve + account.calls.lease;
    // Within the second, another request over the budget is refused here.
    expect(codes([await b.reserve(req("b-again", 100), T0 + 10)])).toEqual(["insufficient_quota"]);
    expect(account.calls.reserve + account.calls.lease).toBe(calls);
  });

  it("refuses past the rpm with Retry-After, remembered until then", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ rpm: 4 }), T0);
    const purse = purseOver(account, clock);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => purse.reserve(req(`r${i}`, 0), T0)));
    expect(codes(results).filter((c) => c === "ok")).toHaveLength(4);
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ code: "rate_limit_exceeded", retryAfterSeconds: 15 });
    const calls = account.calls.reserve + account.calls.lease;
    expect(await purse.reserve(req("later", 0), T0 + 5_000)).toMatchObject({ retryAfterSeconds: 10 });
    expect(account.calls.reserve + account.calls.lease).toBe(calls);
    expect((await purse.reserve(req("after", 0), T0 + 15_000)).ok).toBe(true);
  });

  it("gives back what it does not use once idle, so another holder can spend it", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000 }), T0);
    const a = purseOver(account, clock);
    const b = purseOver(account, clock);
    await Promise.all([a.reserve(req("a1", 100), T0), a.reserve(req("a2", 100), T0)]);
    const idle = [answer(account, a, "a1", 10, 5, T0), answer(account, a, "a2", 10, 5, T0)];
    expect(account.reserved(T0)).toBeGreaterThan(0);
    await clock.advance(PURSE_IDLE_MS);
    await Promise.all(idle);
    expect(account.reserved(clock.now)).toBe(0);
    expect(account.spent).toBe(20);
    // All that is left, in one request elsewhere.
    expect((await b.reserve(req("b1", 980), clock.now)).ok).toBe(true);
  });

  it("gives back again when a give-back failed, rather than leave the slice held for its lease and an hour", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000 }), T0);
    // The account is unreachable for the first give-back only.
    let failures = 1;
    const flaky = {
      reserve: (r: Parameters<MemoryAccount["reserve"]>[0], now: number) => account.reserve(r, now),
      release: (ids: string[], now: number) => account.release(ids, now),
      lease: (l: Parameters<MemoryAccount["lease"]>[0], now: number) =>
        l.need === null && failures-- > 0 ? Promise.reject(new Error("account unreachable")) : account.lease(l, now),
    };
    const purse = new KeyPurse({
      limits: account.limits,
      account: () => flaky,
      newId: () => "flaky",
      wait: clock.wait,
    });
    await Promise.all([purse.reserve(req("a1", 100), T0), purse.reserve(req("a2", 100), T0)]);
    const idle = [answer(account, purse, "a1", 10, 5, T0), answer(account, purse, "a2", 10, 5, T0)];
    await clock.advance(PURSE_IDLE_MS);
    expect(account.reserved(clock.now)).toBeGreaterThan(0);
    await clock.advance(PURSE_IDLE_MS);
    await Promise.allSettled(idle);
    expect(account.reserved(clock.now)).toBe(0);
    expect(purse.idle).toBe(true);
  });

  it("retired while a lease's reply is on its way, still gives back what that lease granted", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 10_000 }), T0);
    // The account grants at once; the reply of a lease that asks for a request reaches the purse only when let go.
    let letGo: () => void = () => {};
    const replied = new Promise<void>((resolve) => (letGo = resolve));
    const slow = {
      reserve: (r: Parameters<MemoryAccount["reserve"]>[0], now: number) => account.reserve(r, now),
      release: (ids: string[], now: number) => account.release(ids, now),
      lease: async (l: Parameters<MemoryAccount["lease"]>[0], now: number) => {
        const reply = await account.lease(l, now);
        if (l.need !== null) await replied;
        return reply;
      },
    };
    const purse = new KeyPurse({
      limits: account.limits,
      account: () => slow,
      newId: () => `s${++ids}`,
      wait: clock.wait,
    });
    // One answer a moment ago (reserved exactly): the key is busy here, so the next request leases a slice.
    expect((await purse.reserve(req("a0", 100), T0)).ok).toBe(true);
    void answer(account, purse, "a0", 10, 0, T0);
    const leased = purse.reserve(req("a1", 100), T0);
    // The key changes meanwhile (a PATCH): with nothing in flight, the purse gives back and closes.
    const retired = purse.retire(T0);
    letGo();
    expect((await leased).ok).toBe(true);
    await retired;
    const idle = answer(account, purse, "a1", 10, 0, T0);
    await clock.advance(PURSE_IDLE_MS);
    await idle;
    // Only what the two answers cost is accounted for: nothing is held for a slice nobody holds.
    expect(account.spent).toBe(20);
    expect(account.reserved(clock.now)).toBe(0);
  });

  it("gives back a grant whose reply was lost, once a later call shows it", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 10_000 }), T0);
    let lost = 1;
    const lossy = {
      reserve: (r: Parameters<MemoryAccount["reserve"]>[0], now: number) => account.reserve(r, now),
      release: (ids: string[], now: number) => account.release(ids, now),
      lease: async (l: Parameters<MemoryAccount["lease"]>[0], now: number) => {
        const reply = await account.lease(l, now);
        if (l.need !== null && lost-- > 0) throw new Error("reply lost");
        return reply;
      },
    };
    const purse = new KeyPurse({
      limits: account.limits,
      account: () => lossy,
      newId: () => `s${++ids}`,
      wait: clock.wait,
    });
    expect((await purse.reserve(req("a0", 100), T0)).ok).toBe(true);
    void answer(account, purse, "a0", 10, 0, T0);
    // Busy here, so the next request leases: the account grants, its reply never arrives, the request fails.
    await expect(purse.reserve(req("a1", 100), T0)).rejects.toThrow("reply lost");
    expect(account.reserved(T0)).toBeGreaterThan(0);
    const idle = purse.release(["a1"], T0);
    await clock.advance(PURSE_IDLE_MS);
    await idle;
    expect(account.reserved(clock.now)).toBe(0);
  });

  it("gives back a second after the last activity, not a second after the first", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 10_000 }), T0);
    const purse = purseOver(account, clock);
    await Promise.all([0, 1].map((i) => purse.reserve(req(`r${i}`, 100), T0)));
    const watch = answer(account, purse, "r0", 10, 0, T0);
    await clock.advance(600);
    expect(answer(account, purse, "r1", 10, 0, clock.now)).toBeNull();
    await clock.advance(400);
    expect(account.reserved(clock.now)).toBeGreaterThan(0);
    await clock.advance(600);
    await watch;
    expect(account.reserved(clock.now)).toBe(0);
  });

  it("keeps a slice the account gave in full through a lull of seconds: a request a second is not a lease each", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000_000_000 }), T0);
    const purse = purseOver(account, clock);
    const watches: Promise<void>[] = [];
    await Promise.all([0, 1].map((i) => purse.reserve(req(`warm${i}`, 100), T0)));
    for (let i = 0; i < 2; i++) watches.push(answer(account, purse, `warm${i}`, 10, 0, T0) ?? Promise.resolve());
    const leasesBefore = account.calls.lease;
    const reservesBefore = account.calls.reserve;
    // One request every 1.5 s for 30 s: each after a lull longer than a second.
    for (let i = 0; i < 20; i++) {
      await clock.advance(1_500);
      expect((await purse.reserve(req(`r${i}`, 100), clock.now)).ok).toBe(true);
      watches.push(answer(account, purse, `r${i}`, 10, 0, clock.now) ?? Promise.resolve());
    }
    // Renewals about every 10 s, no give-back between requests, no exact reservations.
    expect(account.calls.lease - leasesBefore).toBeLessThanOrEqual(4);
    expect(account.calls.reserve).toBe(reservesBefore);
    // Quiet for a lease's length, it gives back all the same.
    await clock.advance(SLICE_LEASE_MS + 1_000);
    await clock.advance(1_000);
    expect(account.reserved(clock.now)).toBe(0);
  });

  it("gives back the free part while an answer is still in flight, keeping only that answer's hold", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 10_000 }), T0);
    const purse = purseOver(account, clock);
    await Promise.all([0, 1, 2].map((i) => purse.reserve(req(`r${i}`, 100), T0)));
    expect(account.reserved(T0)).toBeGreaterThan(300);
    const idle = [answer(account, purse, "r0", 10, 0, T0), answer(account, purse, "r1", 10, 0, T0)];
    await clock.advance(PURSE_IDLE_MS);
    await Promise.all(idle);
    // r2 still streams: its 100 stays held (as a slice's or as its own exact reservation), nothing else.
    expect(account.reserved(clock.now)).toBe(100);
  });

  it("lets a sequential client spend a budget of three worst cases on 20 cheap answers: no remnant is stranded", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 147 }), T0);
    const purse = purseOver(account, clock);
    for (let i = 0; i < 20; i++) {
      const result = await purse.reserve(req(`s${i}`, 49), clock.now);
      expect(result.ok, JSON.stringify(result)).toBe(true);
      void answer(account, purse, `s${i}`, 5, 10, clock.now);
      await clock.advance(100);
    }
    expect(account.spent).toBe(100);
    expect(account.calls.lease).toBeLessThan(20);
  });

  it("renews while busy: a renewal carries the report, and admissions stop when the lease runs out", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000_000 }), T0);
    const purse = purseOver(account, clock);
    await Promise.all([purse.reserve(req("r0", 10), T0), purse.reserve(req("r1", 10), T0)]);
    const leases = account.calls.lease;
    await purse.reserve(req("r2", 10), T0 + 1_000);
    expect(account.calls.lease).toBe(leases);
    await purse.reserve(req("r3", 10), T0 + SLICE_LEASE_MS);
    expect(account.calls.lease).toBe(leases + 1);
  });

  it("charges tokens used beyond the slice to the tpm bucket", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ tpm: 1_000 }), T0);
    const purse = purseOver(account, clock);
    await Promise.all([purse.reserve(req("r0", 0, 100), T0), purse.reserve(req("r1", 0, 100), T0)]);
    const idle = [answer(account, purse, "r0", 0, 900, T0), answer(account, purse, "r1", 0, 900, T0)];
    await clock.advance(PURSE_IDLE_MS);
    await Promise.all(idle);
    // 1,800 used of 1,000 a minute: 800 owed, so 100 more are there once 900 were refilled (less the idle second's).
    const next = await purse.reserve(req("r2", 0, 100), clock.now);
    expect(next).toMatchObject({ ok: false, code: "rate_limit_exceeded", retryAfterSeconds: 53 });
  });

  it("a holder that dies keeps its slice held until its lease and the reservation TTL pass; nothing is overspent", async () => {
    const clock = new FakeClock();
    const account = new MemoryAccount(limits({ budget: 1_000 }), T0);
    const dead = purseOver(account, clock);
    await Promise.all(Array.from({ length: 5 }, (_, i) => dead.reserve(req(`d${i}`, 100), T0)));
    const live = purseOver(account, clock);
    // The first of the burst held an exact reservation, which ends at the TTL; the slice outlasts it by its lease.
    const late = T0 + RESERVATION_TTL_MS;
    const held = account.reserved(late);
    expect(held).toBeGreaterThanOrEqual(400);
    expect((await live.reserve(req("l1", 1_000 - held + 1), late)).ok).toBe(false);
    expect((await live.reserve(req("l2", 1_000), late + SLICE_LEASE_MS + SLICE_GRACE_MS)).ok).toBe(true);
  });
});

type Step =
  | { kind: "reserve"; purse: number; amount: number; burst: number }
  | { kind: "answer"; purse: number; part: number }
  | { kind: "fail"; purse: number }
  | { kind: "time"; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("reserve" as const),
    purse: fc.nat(3),
    amount: fc.nat(200),
    burst: fc.integer({ min: 1, max: 6 }),
  }),
  fc.record({
    kind: fc.constant("answer" as const),
    purse: fc.nat(3),
    part: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant("fail" as const), purse: fc.nat(3) }),
  fc.record({ kind: fc.constant("time" as const), ms: fc.constantFrom(100, PURSE_IDLE_MS, SLICE_LEASE_MS) }),
);

describe("KeyPurse over one account, any interleaving", () => {
  it("never lets spent + held pass the budget, and no answer is charged past it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3_000 }), fc.array(step, { maxLength: 40 }), async (budget, steps) => {
        const clock = new FakeClock();
        const account = new MemoryAccount(limits({ budget, rpm: 50 }), T0);
        const purses = Array.from({ length: 4 }, () => purseOver(account, clock));
        const inFlight = purses.map(() => new Map<string, number>());
        let n = 0;
        for (const s of steps) {
          if (s.kind === "time") await clock.advance(s.ms);
          if (s.kind === "reserve") {
            const batch = Array.from({ length: s.burst }, () => req(`q${++n}`, s.amount));
            const results = await Promise.all(batch.map((r) => purses[s.purse]!.reserve(r, clock.now)));
            for (const [i, r] of results.entries()) if (r.ok) inFlight[s.purse]!.set(batch[i]!.request_id, s.amount);
          }
          const [id, amount] = [...(inFlight["purse" in s ? s.purse : 0] ?? [])][0] ?? [];
          if (s.kind === "answer" && id !== undefined && amount !== undefined) {
            inFlight[s.purse]!.delete(id);
            void answer(account, purses[s.purse]!, id, Math.floor(amount * s.part), 0, clock.now);
          }
          if (s.kind === "fail" && id !== undefined) {
            inFlight[s.purse]!.delete(id);
            void purses[s.purse]!.release([id], clock.now);
          }
          expect(account.committed(clock.now)).toBeLessThanOrEqual(budget);
        }
      }),
      { numRuns: 200 },
    );
  });
});
