import { describe, expect, it } from "vitest";
import { NonceWindow } from "./nonce-window.js";

describe("NonceWindow", () => {
  it("refuses a nonce seen before it expires and accepts it afterwards", () => {
    const window = new NonceWindow();
    expect(window.claim("a", 2_000, 1_000)).toBe(true);
    expect(window.claim("a", 2_500, 1_500)).toBe(false);
    expect(window.claim("a", 4_000, 2_000)).toBe(true);
  });

  it("forgets expired nonces so memory does not grow without bound", () => {
    const window = new NonceWindow();
    for (let i = 0; i < 100; i++) window.claim(`n${i}`, 1_000 + i, 0);
    window.claim("late", 10_000, 5_000);
    expect(window.size).toBe(1);
  });

  it("never holds more than its cap", () => {
    const window = new NonceWindow(3);
    for (const nonce of ["a", "b", "c", "d"]) window.claim(nonce, 10_000, 0);
    expect(window.size).toBe(3);
    expect(window.claim("d", 10_000, 1)).toBe(false);
  });
});
