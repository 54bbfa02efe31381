// Issue 17's goal for one hot key, on a simulated clock: 5,000 req/s spread over 1,000 isolates' purses puts about
// 100 calls a second on its account (a renewal per isolate every ~10 s), not 10,000 (a reserve and a record each),
// and its budget and rpm hold.
import { describe, expect, it } from "vitest";
import { KeyPurse } from "./key-purse.js";
import { MemoryAccount } from "./memory-account.js";
import type { KeyLimits } from "./records.js";

const T0 = 1_700_000_000_000;
const ISOLATES = 1_000;
/** Each isolate gets one request every 200 ms (5,000 req/s in all), each answered 500 ms later. */
const EVERY_MS = 200;
const STEP_MS = 10;
const ANSWER_MS = 500;
const SECONDS = 40;

describe("a key at 5,000 req/s over 1,000 isolates", () => {
  it("puts about 100 calls a second on its account, within its budget and rpm", async () => {
    const limits: KeyLimits = { budget: 10 ** 9, rpm: 400_000, tpm: null };
    const account = new MemoryAccount(limits, T0);
    let ids = 0;
    const purses = Array.from(
      { length: ISOLATES },
      () =>
        new KeyPurse({
          limits,
          account: () => account,
          newId: () => `slice-${++ids}`,
          wait: () => new Promise<number>(() => {}),
        }),
    );
    const inFlight: { at: number; purse: KeyPurse; id: string }[] = [];
    let admitted = 0;
    let refused = 0;
    let callsAfterWarmup = 0;
    for (let now = T0; now < T0 + SECONDS * 1_000; now += STEP_MS) {
      if (now === T0 + 10_000) callsAfterWarmup = account.calls.reserve + account.calls.lease;
      while (inFlight.length > 0 && inFlight[0]!.at <= now) {
        const done = inFlight.shift()!;
        account.record({ request_id: done.id, cost: 10, total_tokens: 0, slice_id: done.purse.sliceOf(done.id) }, now);
        done.purse.settle(done.id, 10, 0, now);
      }
      const slot = ((now - T0) / STEP_MS) % (EVERY_MS / STEP_MS);
      const due = purses.filter((_, i) => i % (EVERY_MS / STEP_MS) === slot);
      const results = await Promise.all(
        due.map(async (purse) => {
          const id = `r${++ids}`;
          const r = await purse.reserve({ request_id: id, amount: 100, tokens: 0 }, now);
          if (r.ok) inFlight.push({ at: now + ANSWER_MS, purse, id });
          return r.ok;
        }),
      );
      admitted += results.filter(Boolean).length;
      refused += results.filter((ok) => !ok).length;
      expect(account.committed(now)).toBeLessThanOrEqual(limits.budget ?? 0);
    }
    const calls = account.calls.reserve + account.calls.lease - callsAfterWarmup;
    const perSecond = calls / (SECONDS - 10);
    process.stdout.write(
      `hot key: ${admitted} admitted, ${refused} refused, ${perSecond.toFixed(1)} account calls/s after warm-up\n`,
    );
    expect(refused).toBe(0);
    expect(admitted).toBe(5_000 * SECONDS);
    expect(perSecond).toBeLessThanOrEqual(120);
  });
});
