import { describe, expect, it } from "vitest";
import { sessionReconnectGraceMs, sessionReconnectWindowMs, sessionSilenceLimitMs } from "./session-timing.js";

describe("sessionSilenceLimitMs", () => {
  it("reads the operator's limit, and falls back to 15 s for anything that would be unsafe or malformed", () => {
    expect(sessionSilenceLimitMs({})).toBe(15_000);
    expect(sessionSilenceLimitMs({ SESSION_SILENCE_LIMIT_MS: "60000" })).toBe(60_000);
    for (const bad of ["", "0", "999", "300001", "1.5e3", "soon", "-5000"])
      expect(sessionSilenceLimitMs({ SESSION_SILENCE_LIMIT_MS: bad })).toBe(15_000);
  });
});

describe("sessionReconnectWindowMs", () => {
  it("reads the operator's window, and falls back to 2 s for anything outside 100 ms to 5 min", () => {
    expect(sessionReconnectWindowMs({})).toBe(2_000);
    expect(sessionReconnectWindowMs({ SESSION_RECONNECT_WINDOW_MS: "10000" })).toBe(10_000);
    expect(sessionReconnectWindowMs({ SESSION_RECONNECT_WINDOW_MS: "100" })).toBe(100);
    for (const bad of ["", "0", "99", "300001", "2e3", "later"])
      expect(sessionReconnectWindowMs({ SESSION_RECONNECT_WINDOW_MS: bad })).toBe(2_000);
  });
});

describe("sessionReconnectGraceMs", () => {
  it("outlasts two reconnect windows, so an agent's first and second tries fit in it", () => {
    expect(sessionReconnectGraceMs({})).toBe(5_000);
    expect(sessionReconnectGraceMs({ SESSION_RECONNECT_WINDOW_MS: "200" })).toBe(1_400);
  });
});
