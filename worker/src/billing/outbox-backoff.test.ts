import { describe, expect, it } from "vitest";
import { outboxRetryDelay } from "./outbox-backoff.js";

describe("outboxRetryDelay", () => {
  it("retries soon at first, then once a minute for as long as it takes", () => {
    expect([0, 1, 2, 3, 4, 50].map(outboxRetryDelay)).toEqual([1_000, 1_000, 5_000, 30_000, 60_000, 60_000]);
  });
});
