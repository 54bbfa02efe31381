import { describe, expect, it } from "vitest";
import { MemoryAccount } from "../billing/memory-account.js";
import type { KeyLimits } from "../billing/records.js";
import { KeyPurses } from "./key-purses.js";

const T0 = 1_700_000_000_000;
const BUDGET: KeyLimits = { budget: 1_000, rpm: null, tpm: null };
const deps = { newId: () => "slice", wait: () => new Promise<number>(() => {}) };

describe("KeyPurses", () => {
  it("keeps one purse per key in the isolate, so concurrent requests share its slice", () => {
    const purses = new KeyPurses(deps);
    const account = new MemoryAccount(BUDGET, T0);
    const a = purses.purse("key_a", BUDGET, () => account);
    expect(purses.purse("key_a", { ...BUDGET, budget: 2_000 }, () => account)).toBe(a);
    expect(purses.purse("key_b", BUDGET, () => account)).not.toBe(a);
  });

  it("starts a fresh purse when a key gains or loses a limit, or is forgotten (a key change)", () => {
    const purses = new KeyPurses(deps);
    const account = new MemoryAccount(BUDGET, T0);
    const a = purses.purse("key_a", BUDGET, () => account);
    const withRpm = purses.purse("key_a", { ...BUDGET, rpm: 10 }, () => account);
    expect(withRpm).not.toBe(a);
    void purses.forgetPurse("key_a", T0);
    expect(purses.purse("key_a", { ...BUDGET, rpm: 10 }, () => account)).not.toBe(withRpm);
  });

  it("has a changed key's purse give its free slice back at once, so nothing more is admitted under the old limits", async () => {
    const purses = new KeyPurses(deps);
    const account = new MemoryAccount(BUDGET, T0);
    const purse = purses.purse("key_a", BUDGET, () => account);
    // A burst leases a slice larger than the three requests it admits.
    await Promise.all([0, 1, 2].map((i) => purse.reserve({ request_id: `r${i}`, amount: 10, tokens: 0 }, T0)));
    const lent = account.reserved(T0);
    expect(lent).toBeGreaterThan(30);
    await purses.forgetPurse(null, T0 + 1);
    // Only the three answers in flight stay held.
    expect(account.reserved(T0 + 1)).toBe(30);
    expect(purses.purse("key_a", BUDGET, () => account)).not.toBe(purse);
  });
});
