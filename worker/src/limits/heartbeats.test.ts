import { describe, expect, it } from "vitest";
import { DEFAULT_HEARTBEAT_LIMIT, heartbeatRateLimit } from "./heartbeats.js";
import { MINUTE_MS } from "./token-bucket.js";

describe("heartbeat rate limit setting", () => {
  it.each([
    [undefined, DEFAULT_HEARTBEAT_LIMIT],
    ["120/20", { refill: 120, periodMs: MINUTE_MS, burst: 20 }],
    [" 30 / 5 ", { refill: 30, periodMs: MINUTE_MS, burst: 5 }],
    ["0/5", DEFAULT_HEARTBEAT_LIMIT],
    ["fast", DEFAULT_HEARTBEAT_LIMIT],
    ["60/0", DEFAULT_HEARTBEAT_LIMIT],
    // Too large to count in whole units below 2^53: refused like any other value that is not a limit.
    ["60/99999999999999", DEFAULT_HEARTBEAT_LIMIT],
  ])("%s → %o", (value, expected) => {
    expect(heartbeatRateLimit({ HEARTBEAT_RATE_LIMIT: value })).toEqual(expected);
  });
});
