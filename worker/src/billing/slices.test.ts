import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { available, fullBucket, perMinute, type Bucket } from "../limits/token-bucket.js";
import type { KeyLimits } from "./records.js";
import { RESERVATION_TTL_MS, type AccountState } from "./reservation.js";
import {
  applyReport,
  decideGrant,
  extendSlice,
  lapsesAt,
  newSlice,
  NOTHING,
  outstanding,
  SLICE_GRACE_MS,
  SLICE_LEASE_MS,
  type Figures,
  type Slice,
} from "./slices.js";

const T0 = 1_700_000_000_000;
const full = (limit: number | null): Bucket =>
  limit === null ? { level: 0, at: T0 } : fullBucket(perMinute(limit), T0);

function account(limits: Partial<KeyLimits>, over: Partial<AccountState> = {}): AccountState {
  const l: KeyLimits = { budget: null, rpm: null, tpm: null, ...limits };
  return { limits: l, spent: 0, reserved: 0, requests: full(l.rpm), tokens: full(l.tpm), ...over };
}
const fig = (amount: number, requests = 0, tokens = 0): Figures => ({ amount, requests, tokens });

describe("decideGrant", () => {
  it("grants what the request needs plus at most a quarter of what is then free, in whole requests", () => {
    const d = decideGrant(account({ budget: 1_000 }), fig(10_000), fig(100), T0);
    // 900 free after the request's 100: a quarter of it (225) on top, as two more such requests.
    expect(d).toMatchObject({ ok: true, grant: fig(300) });
    expect(decideGrant(account({ budget: 1_000 }), fig(10_000), fig(1), T0)).toMatchObject({ grant: fig(250) });
  });

  it("grants no more than wanted", () => {
    expect(decideGrant(account({ budget: 1_000 }), fig(250), fig(100), T0)).toMatchObject({ grant: fig(200) });
  });

  it("counts spent, reservations and other slices as taken", () => {
    const state = account({ budget: 1_000 }, { spent: 500, reserved: 400 });
    // 40 free after the request's 60: a quarter of it is no whole request more.
    expect(decideGrant(state, fig(1_000), fig(60), T0)).toMatchObject({ grant: fig(60) });
    expect(decideGrant(state, fig(1_000), fig(6), T0)).toMatchObject({ grant: fig(24) });
    const refused = decideGrant(state, fig(1_000), fig(101), T0);
    expect(refused).toMatchObject({ ok: false, refusal: { code: "insufficient_quota", budgetLeft: 100 } });
  });

  it("takes the request and a share of the rpm and tpm buckets, refusing as a reservation would", () => {
    const d = decideGrant(account({ rpm: 9, tpm: 1_000 }), fig(0, 100, 100_000), fig(0, 1, 200), T0);
    // rpm: 1 for the request, then a quarter of the 8 left; tpm: 200, then a quarter of 800.
    expect(d).toMatchObject({ ok: true, grant: fig(0, 3, 400) });
    if (!d.ok) return;
    expect(available(d.requests, perMinute(9), T0)).toBe(6);
    expect(available(d.tokens, perMinute(1_000), T0)).toBe(600);

    const empty = account({ rpm: 9 }, { requests: { level: 0, at: T0 } });
    expect(decideGrant(empty, fig(0, 5), fig(0, 1), T0)).toMatchObject({
      ok: false,
      refusal: { code: "rate_limit_exceeded", retryAfterSeconds: 7 },
    });
    const tooLarge = decideGrant(account({ tpm: 100 }), NOTHING, fig(0, 1, 101), T0);
    expect(tooLarge).toMatchObject({ ok: false, refusal: { code: "rate_limit_exceeded", retryAfterSeconds: null } });
  });

  it("grants nothing in a dimension without a limit", () => {
    expect(decideGrant(account({ rpm: 100 }), fig(50, 10, 10), fig(5, 1, 1), T0)).toMatchObject({
      grant: fig(0, 10, 0),
    });
  });

  it("renews without a request: only a share of what is free", () => {
    expect(decideGrant(account({ budget: 400 }), fig(1_000), null, T0)).toMatchObject({ grant: fig(100) });
  });
});

describe("a slice's life", () => {
  it("holds granted − returned − recorded until its lease plus the reservation TTL", () => {
    let s = extendSlice(newSlice("s", T0), fig(500, 5, 50), 0, false, T0);
    expect(s.until).toBe(T0 + SLICE_LEASE_MS + SLICE_GRACE_MS);
    s = { ...s, recorded: 120 };
    const state = account({ budget: 1_000, rpm: 10, tpm: 100 });
    const r = applyReport(state, s, { returned: fig(300, 2, 20), debtTokens: 0 }, T0);
    expect(outstanding(r.slice, T0)).toBe(80);
    expect(outstanding(r.slice, lapsesAt(s) - 1)).toBe(80);
    expect(outstanding(r.slice, s.until + RESERVATION_TTL_MS)).toBe(0);
  });

  it("applies a report once however often it is sent, and never returns more than was granted", () => {
    const state = account({ rpm: 10, tpm: 100 }, { requests: { level: 0, at: T0 }, tokens: { level: 0, at: T0 } });
    const s = extendSlice(newSlice("s", T0), fig(0, 4, 40), 0, false, T0);
    const once = applyReport(state, s, { returned: fig(0, 2, 30), debtTokens: 0 }, T0);
    const twice = applyReport({ ...state, ...once }, once.slice, { returned: fig(0, 2, 30), debtTokens: 0 }, T0);
    expect(available(twice.requests, perMinute(10), T0)).toBe(2);
    expect(available(twice.tokens, perMinute(100), T0)).toBe(30);
    const greedy = applyReport(state, s, { returned: fig(999, 99, 999), debtTokens: 0 }, T0);
    expect(greedy.slice.returned).toEqual(fig(0, 4, 40));
  });

  it("takes tokens used beyond the slice from the tpm bucket as debt, so later takes wait", () => {
    const state = account({ tpm: 100 });
    const s = extendSlice(newSlice("s", T0), fig(0, 0, 40), 0, false, T0);
    const r = applyReport(state, s, { returned: NOTHING, debtTokens: 160 }, T0);
    // 100 full, 160 owed: 60 below empty.
    expect(r.tokens.level).toBe(-60 * 60_000);
  });
});

// A model account with holders leasing, spending (recorded charges within their slices), giving back and dying: the
// invariant holds after every step.
type Op =
  | { kind: "lease"; holder: number; want: number; need: number }
  | { kind: "spend"; holder: number; cost: number }
  | { kind: "give-back"; holder: number; part: number }
  | { kind: "reserve"; amount: number }
  | { kind: "wait"; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("lease" as const),
    holder: fc.nat(3),
    want: fc.nat(2_000),
    need: fc.nat(300),
  }),
  fc.record({ kind: fc.constant("spend" as const), holder: fc.nat(3), cost: fc.nat(300) }),
  fc.record({
    kind: fc.constant("give-back" as const),
    holder: fc.nat(3),
    part: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({ kind: fc.constant("reserve" as const), amount: fc.nat(300) }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.constantFrom(1_000, SLICE_LEASE_MS, RESERVATION_TTL_MS) }),
);

class Model {
  spent = 0;
  reserved = 0;
  now = T0;
  slices = new Map<number, Slice>();
  constructor(readonly budget: number) {}

  state(): AccountState {
    const held = [...this.slices.values()].reduce((n, s) => n + outstanding(s, this.now), 0);
    return account({ budget: this.budget }, { spent: this.spent, reserved: this.reserved + held });
  }

  /** What a holder may still spend of its slice: what is neither returned nor charged, while it admits. */
  free(s: Slice): number {
    return this.now < s.until ? outstanding(s, this.now) : 0;
  }

  step(o: Op): void {
    const s = this.slices.get("holder" in o ? o.holder : -1);
    if (o.kind === "wait") this.now += o.ms;
    if (o.kind === "reserve") {
      const st = this.state();
      if (st.spent + st.reserved + o.amount <= this.budget) this.reserved += o.amount;
    }
    if (o.kind === "lease") {
      const slice = s && this.now < lapsesAt(s) ? s : newSlice(`h${o.holder}`, this.now);
      const d = decideGrant(this.state(), fig(o.want), fig(o.need), this.now);
      if (d.ok) this.slices.set(o.holder, extendSlice(slice, d.grant, slice.seq + 1, false, this.now));
    }
    if (o.kind === "spend" && s) {
      const cost = Math.min(o.cost, this.free(s));
      this.spent += cost;
      this.slices.set(o.holder, { ...s, recorded: s.recorded + cost });
    }
    if (o.kind === "give-back" && s) {
      const back = s.returned.amount + Math.floor(this.free(s) * o.part);
      this.slices.set(o.holder, applyReport(this.state(), s, { returned: fig(back), debtTokens: 0 }, this.now).slice);
    }
  }
}

describe("the budget invariant", () => {
  it("spent + reservations + outstanding slices never pass the budget", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_000 }), fc.array(op, { maxLength: 80 }), (budget, ops) => {
        const m = new Model(budget);
        for (const o of ops) {
          m.step(o);
          const st = m.state();
          expect(st.spent + st.reserved).toBeLessThanOrEqual(budget);
        }
      }),
    );
  });

  it("a holder that dies keeps its slice held until the lease and the TTL have passed, then frees it", () => {
    const m = new Model(1_000);
    m.step({ kind: "lease", holder: 0, want: 1_000, need: 400 });
    const held = m.state().reserved;
    // 400, and a quarter of the 600 left is no whole request more.
    expect(held).toBe(400);
    m.step({ kind: "wait", ms: RESERVATION_TTL_MS });
    expect(m.state().reserved).toBe(held);
    m.step({ kind: "wait", ms: SLICE_LEASE_MS + SLICE_GRACE_MS });
    expect(m.state().reserved).toBe(0);
  });
});
