import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import { orThrow } from "../http/refusal.js";
import {
  DEFAULT_SETTLEMENT_DELAY_MS,
  PeriodBodySchema,
  settlementDelayMs,
  settlementPeriod,
  type PeriodBody,
} from "./period.js";

const NOW = Date.parse("2026-05-01T12:00:00Z");

/** settlementPeriod as the route reads it: a refusal is thrown as the client's error. */
const period = (body: PeriodBody, now: number, delayMs: number) => orThrow(settlementPeriod(body, now, delayMs));

function refusal(run: () => unknown): HttpError {
  try {
    run();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error("expected an HttpError");
}

describe("settlementPeriod", () => {
  it("reads unix seconds, digit strings and ISO 8601 into ms", () => {
    expect(period({ from: 1_777_000_000, to: "1777003600" }, NOW, 0)).toEqual({
      from: 1_777_000_000_000,
      to: 1_777_003_600_000,
    });
    expect(period({ from: "2026-04-30T00:00:00Z", to: "2026-05-01T00:00:00.250Z" }, NOW, 0)).toEqual({
      from: Date.parse("2026-04-30T00:00:00Z"),
      to: Date.parse("2026-05-01T00:00:00.250Z"),
    });
  });

  it("refuses an empty or inverted period", () => {
    for (const body of [
      { from: 100, to: 100 },
      { from: 200, to: 100 },
    ]) {
      const err = refusal(() => period(body, NOW, 0));
      expect([err.status, err.code, err.param]).toEqual([400, "invalid_value", "to"]);
    }
  });

  it("refuses a period shorter than an hour, naming the minimum, and accepts one of exactly an hour", () => {
    const from = Date.parse("2026-04-30T00:00:00Z") / 1000;
    for (const seconds of [1, 60, 3_599]) {
      const err = refusal(() => period({ from, to: from + seconds }, NOW, 0));
      expect([err.status, err.code, err.param]).toEqual([400, "period_too_short", "to"]);
      expect(err.message).toContain("at least 3600000 ms (1 hour)");
    }
    expect(refusal(() => period({ from: "2026-04-30T00:00:00Z", to: "2026-04-30T00:59:59.999Z" }, NOW, 0)).code).toBe(
      "period_too_short",
    );
    expect(period({ from, to: from + 3_600 }, NOW, 0)).toEqual({
      from: from * 1000,
      to: (from + 3_600) * 1000,
    });
  });

  it("refuses unreadable or pre-1970 instants, naming the field", () => {
    expect(refusal(() => period({ from: "yesterday", to: 100 }, NOW, 0)).param).toBe("from");
    expect(refusal(() => period({ from: 0, to: "1969-12-31T00:00:00Z" }, NOW, 0)).param).toBe("to");
  });

  it("refuses instants at the edge of Date's range as invalid, not a crash, even where a delay is added", () => {
    const edge = "+275760-09-13T00:00:00Z";
    for (const [body, param] of [
      [{ from: 0, to: edge }, "to"],
      [{ from: edge, to: 100 }, "from"],
    ] as const) {
      const err = refusal(() => period(body, NOW, 300_000));
      expect([err.status, err.code, err.param]).toEqual([400, "invalid_value", param]);
    }
  });

  it("refuses a period that ends in the future or within the delay, and accepts one just past it", () => {
    const delay = 300_000;
    const future = refusal(() => period({ from: 0, to: (NOW + 60_000) / 1000 }, NOW, delay));
    expect([future.status, future.code]).toEqual([400, "period_not_over"]);
    expect(refusal(() => period({ from: 0, to: (NOW - delay + 1000) / 1000 }, NOW, delay)).code).toBe(
      "period_not_over",
    );
    expect(period({ from: 0, to: (NOW - delay) / 1000 }, NOW, delay).to).toBe(NOW - delay);
    expect(period({ from: 0, to: NOW / 1000 }, NOW, 0).to).toBe(NOW);
  });
});

describe("PeriodBodySchema", () => {
  it("takes numbers or strings and nothing else", () => {
    expect(PeriodBodySchema.safeParse({ from: 1, to: "2026-05-01" }).success).toBe(true);
    for (const body of [
      { from: 1 },
      { from: 1.5, to: 2 },
      { from: -1, to: 2 },
      { from: 1, to: 2, extra: 1 },
      { from: "", to: 2 },
      { from: null, to: 2 },
    ]) {
      expect(PeriodBodySchema.safeParse(body).success).toBe(false);
    }
  });
});

describe("settlementDelayMs", () => {
  it("defaults to five minutes and takes a non-negative integer override", () => {
    expect(DEFAULT_SETTLEMENT_DELAY_MS).toBe(300_000);
    expect(settlementDelayMs(undefined)).toBe(300_000);
    expect(settlementDelayMs("")).toBe(300_000);
    expect(settlementDelayMs("0")).toBe(0);
    expect(settlementDelayMs(" 60000 ")).toBe(60_000);
    for (const raw of ["-1", "1.5", "soon", "1e6"]) expect(settlementDelayMs(raw)).toBe(300_000);
  });
});
