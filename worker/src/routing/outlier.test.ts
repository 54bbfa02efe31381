import { describe, expect, it } from "vitest";
import {
  BASE_EJECTION_MS,
  eject,
  EJECT_AFTER_CONSECUTIVE,
  EJECT_FAILURE_RATE,
  ejectionMs,
  isEjected,
  MAX_EJECTED_FRACTION,
  MAX_EJECTION_MS,
  maxEjected,
  MIN_WINDOW,
  newOutlierState,
  outlierFailure,
  outlierSuccess,
  WINDOW_HALF_LIFE_MS,
  type OutlierState,
} from "./outlier.js";

/** Applies a pattern of outcomes, one per millisecond from `from`: "s" success, "f" failure. */
function run(state: OutlierState, pattern: string, from: number, mayEject = true): OutlierState {
  let s = state;
  [...pattern].forEach((c, i) => {
    s = c === "s" ? outlierSuccess(s, from + i) : outlierFailure(s, from + i, mayEject);
  });
  return s;
}

const fails = (n: number): string => "f".repeat(n);
const oks = (n: number): string => "s".repeat(n);

/** Ejected at `at` by consecutive failures. */
function ejectedAt(state: OutlierState, at: number): OutlierState {
  const s = run(state, fails(EJECT_AFTER_CONSECUTIVE), at - EJECT_AFTER_CONSECUTIVE + 1);
  expect(isEjected(s, at)).toBe(true);
  return s;
}

describe("a fresh node", () => {
  it("is in rotation, not on probation", () => {
    const s = newOutlierState(0);
    expect(isEjected(s, 0)).toBe(false);
    expect(s.probation).toBe(false);
    expect(s.ejections).toBe(0);
  });
});

describe("ejection after consecutive failures", () => {
  it(`ejects on the ${EJECT_AFTER_CONSECUTIVE}th failure in a row, not before`, () => {
    const before = run(newOutlierState(0), fails(EJECT_AFTER_CONSECUTIVE - 1), 0);
    expect(isEjected(before, EJECT_AFTER_CONSECUTIVE)).toBe(false);
    const after = outlierFailure(before, EJECT_AFTER_CONSECUTIVE, true);
    expect(isEjected(after, EJECT_AFTER_CONSECUTIVE)).toBe(true);
    expect(after.ejectedUntil).toBe(EJECT_AFTER_CONSECUTIVE + BASE_EJECTION_MS);
    expect(after.ejections).toBe(1);
  });

  it("a success in between resets the run", () => {
    const s = run(newOutlierState(0), fails(EJECT_AFTER_CONSECUTIVE - 1) + "s" + fails(EJECT_AFTER_CONSECUTIVE - 1), 0);
    expect(isEjected(s, 100)).toBe(false);
    expect(s.consecutive).toBe(EJECT_AFTER_CONSECUTIVE - 1);
  });

  it("stays out for the ejection time, then is back", () => {
    const s = ejectedAt(newOutlierState(0), 1_000);
    expect(isEjected(s, 1_000 + BASE_EJECTION_MS - 1)).toBe(true);
    expect(isEjected(s, 1_000 + BASE_EJECTION_MS)).toBe(false);
  });

  it("starts a fresh window on ejection", () => {
    const s = ejectedAt(newOutlierState(0), 1_000);
    expect(s.consecutive).toBe(0);
    expect(s.ok).toBe(0);
    expect(s.failed).toBe(0);
  });
});

describe("severe failures", () => {
  it("eject at once, even a node with a long good record", () => {
    const good = run(newOutlierState(0), oks(100), 0);
    const s = outlierFailure(good, 100, true, true);
    expect(isEjected(s, 100)).toBe(true);
    expect(s.ejectedUntil).toBe(100 + BASE_EJECTION_MS);
    expect(isEjected(outlierFailure(good, 100, true, false), 100)).toBe(false);
  });

  it("respect the ejection cap", () => {
    expect(isEjected(outlierFailure(newOutlierState(0), 0, false, true), 0)).toBe(false);
  });

  it("do not lengthen an ejection under way", () => {
    const s = outlierFailure(newOutlierState(0), 0, true, true);
    expect(outlierFailure(s, 10, true, true).ejectedUntil).toBe(s.ejectedUntil);
  });
});

describe("ejection on failure rate", () => {
  it(`ejects once ${EJECT_FAILURE_RATE * 100}% of a full window failed, though never ${EJECT_AFTER_CONSECUTIVE} in a row`, () => {
    // 16 successes and 2 lone failures: 2 of 18 is 11%, but the first failure (1 of 11, 9%) did not eject.
    const before = run(newOutlierState(0), oks(10) + "f" + oks(6), 0);
    expect(isEjected(before, 17)).toBe(false);
    const after = outlierFailure(before, 17, true);
    expect(after.consecutive).toBe(0); // reset by the ejection
    expect(isEjected(after, 17)).toBe(true);
  });

  it("keeps a node failing less than that share", () => {
    // One in eleven: just under 10%.
    const s = run(newOutlierState(0), (oks(10) + "f").repeat(10), 0);
    expect(isEjected(s, 100)).toBe(false);
    expect(s.ejections).toBe(0);
  });

  it(`does not judge by rate before the window holds ${MIN_WINDOW} requests`, () => {
    const s = run(newOutlierState(0), "sffsffs", 0); // 4 of 7 failed, at most 2 in a row
    expect(isEjected(s, 7)).toBe(false);
  });

  it("forgets old failures as the window decays", () => {
    // Three failures long ago, then 10 successes and one failure: the old failures count for little.
    const old = run(newOutlierState(0), "sfff", 0);
    const s = run(old, oks(10) + "f", 10 * WINDOW_HALF_LIFE_MS);
    expect(isEjected(s, 10 * WINDOW_HALF_LIFE_MS + 10)).toBe(false);
    // The same outcomes without the pause do eject: 4 of 15.
    const quick = run(old, oks(10) + "f", 4);
    expect(isEjected(quick, 14)).toBe(true);
  });
});

describe("growing ejection time", () => {
  it("is the base time times the ejections, capped", () => {
    expect(ejectionMs(0)).toBe(BASE_EJECTION_MS);
    expect(ejectionMs(1)).toBe(BASE_EJECTION_MS);
    expect(ejectionMs(2)).toBe(2 * BASE_EJECTION_MS);
    expect(ejectionMs(3)).toBe(3 * BASE_EJECTION_MS);
    expect(ejectionMs(1_000)).toBe(MAX_EJECTION_MS);
    expect(MAX_EJECTION_MS).toBeGreaterThan(BASE_EJECTION_MS);
  });

  it("grows with each ejection of a node that keeps failing, up to MAX_EJECTION_MS", () => {
    let s = newOutlierState(0);
    let now = 0;
    const durations: number[] = [];
    s = run(s, fails(EJECT_AFTER_CONSECUTIVE), now);
    now += EJECT_AFTER_CONSECUTIVE - 1;
    for (let i = 0; i < 15; i++) {
      durations.push(s.ejectedUntil - now);
      now = s.ejectedUntil; // back from ejection, on probation: its first failure ejects it again
      s = outlierFailure(s, now, true);
      expect(isEjected(s, now)).toBe(true);
    }
    durations.push(s.ejectedUntil - now);
    expect(durations.slice(0, 4)).toEqual([1, 2, 3, 4].map((k) => k * BASE_EJECTION_MS));
    for (let i = 1; i < durations.length; i++)
      expect(durations[i]).toBeGreaterThanOrEqual(durations[i - 1] ?? Infinity);
    expect(Math.max(...durations)).toBe(MAX_EJECTION_MS);
    expect(durations.at(-1)).toBe(MAX_EJECTION_MS);
  });

  it("shrinks again after a long good stretch", () => {
    let s = ejectedAt(newOutlierState(0), 0);
    s = outlierFailure(s, s.ejectedUntil, true); // second ejection: 2 × base
    const back = s.ejectedUntil;
    expect(s.ejections).toBe(2);
    // No failure for MAX_EJECTION_MS: one ejection is forgiven.
    s = run(s, oks(MIN_WINDOW + 5), back + MAX_EJECTION_MS);
    const at = back + MAX_EJECTION_MS + 1_000;
    s = outlierFailure(s, at, true, true);
    expect(isEjected(s, at)).toBe(true);
    expect(s.ejectedUntil - at).toBeLessThan(3 * BASE_EJECTION_MS);
    // Without the good stretch, the third ejection lasts three times the base.
    const unforgiven = outlierFailure(
      outlierFailure(ejectedAt(newOutlierState(0), 0), BASE_EJECTION_MS, true),
      3 * BASE_EJECTION_MS,
      true,
      true,
    );
    expect(unforgiven.ejectedUntil - 3 * BASE_EJECTION_MS).toBe(3 * BASE_EJECTION_MS);
  });
});

describe("probation", () => {
  it("a failure on return ejects at once, for longer", () => {
    const s = ejectedAt(newOutlierState(0), 0);
    const back = s.ejectedUntil;
    const again = outlierFailure(s, back, true);
    expect(isEjected(again, back)).toBe(true);
    expect(again.ejectedUntil - back).toBe(2 * BASE_EJECTION_MS);
  });

  it("a success on return clears it; later failures are judged normally", () => {
    const s = ejectedAt(newOutlierState(0), 0);
    const back = s.ejectedUntil;
    const ok = outlierSuccess(s, back);
    expect(ok.probation).toBe(false);
    expect(isEjected(ok, back)).toBe(false);
    const oneFailure = outlierFailure(ok, back + 1, true);
    expect(isEjected(oneFailure, back + 1)).toBe(false);
  });

  it("a failure on return that the ejection cap forbids leaves the node on probation", () => {
    const s = ejectedAt(newOutlierState(0), 0);
    const back = s.ejectedUntil;
    const kept = outlierFailure(s, back, false);
    expect(isEjected(kept, back)).toBe(false);
    expect(kept.probation).toBe(true);
    // Once the cap allows, the next failure ejects it.
    expect(isEjected(outlierFailure(kept, back + 1, true), back + 1)).toBe(true);
  });

  it("failures of requests still in flight when the node was ejected do not count after it returns", () => {
    let s = ejectedAt(newOutlierState(0), 0);
    s = run(s, fails(10), 1); // the rest of its in-flight requests fail while it is out
    const back = s.ejectedUntil;
    s = run(s, oks(10) + "f", back); // after return: 10 good answers and one failure, 9%
    expect(isEjected(s, back + 10)).toBe(false);
  });
});

describe("failures while ejected", () => {
  it("do not extend the ejection", () => {
    const s = ejectedAt(newOutlierState(0), 0);
    const later = run(s, fails(20), 1);
    expect(later.ejectedUntil).toBe(s.ejectedUntil);
    expect(later.ejections).toBe(1);
  });
});

describe("the ejection cap", () => {
  it("keeps a node that trips while the cap is reached, however much it fails", () => {
    const s = run(newOutlierState(0), fails(50), 0, false);
    expect(isEjected(s, 50)).toBe(false);
    expect(s.ejections).toBe(0);
  });

  it(`allows at most ${MAX_EJECTED_FRACTION} of the nodes, and always at least one`, () => {
    expect(maxEjected(0)).toBe(1);
    expect(maxEjected(1)).toBe(1);
    expect(maxEjected(2)).toBe(1);
    expect(maxEjected(3)).toBe(1);
    expect(maxEjected(6)).toBe(2);
    expect(maxEjected(10)).toBe(3);
    expect(maxEjected(100)).toBe(34);
    for (let n = 3; n <= 500; n++) expect(maxEjected(n)).toBeLessThanOrEqual(n * MAX_EJECTED_FRACTION);
  });
});

describe("an ejection decided elsewhere (a failed probe)", () => {
  it("ejects at once with the same timing rules", () => {
    const s = eject(newOutlierState(0), 100);
    expect(isEjected(s, 100)).toBe(true);
    expect(s.ejectedUntil).toBe(100 + BASE_EJECTION_MS);
    const again = eject(s, s.ejectedUntil);
    expect(again.ejectedUntil - s.ejectedUntil).toBe(2 * BASE_EJECTION_MS);
  });

  it("does nothing to a node already out", () => {
    const s = eject(newOutlierState(0), 100);
    expect(eject(s, 200)).toBe(s);
  });

  it("starts the window afresh", () => {
    const s = eject(run(newOutlierState(0), "ssff", 0), 10);
    expect(s.ok).toBe(0);
    expect(s.failed).toBe(0);
    expect(s.consecutive).toBe(0);
  });
});
