import { describe, expect, it } from "vitest";
import { sessionSilenceLimitMs } from "./session-silence.js";

describe("sessionSilenceLimitMs", () => {
  it("reads the operator's limit, and falls back to 15 s for anything that would be unsafe or malformed", () => {
    expect(sessionSilenceLimitMs({})).toBe(15_000);
    expect(sessionSilenceLimitMs({ SESSION_SILENCE_LIMIT_MS: "60000" })).toBe(60_000);
    for (const bad of ["", "0", "999", "300001", "1.5e3", "soon", "-5000"])
      expect(sessionSilenceLimitMs({ SESSION_SILENCE_LIMIT_MS: bad })).toBe(15_000);
  });
});
