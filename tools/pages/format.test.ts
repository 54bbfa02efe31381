import { describe, expect, it } from "vitest";
import {
  escapeHtml,
  formatInt,
  formatMs,
  formatPerMillion,
  formatShare,
  formatUsd,
} from "../../worker/public/pages/format.js";

describe("how the pages write figures", () => {
  it("writes micro-units as exact dollars, with two decimals at least and six at most", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(1)).toBe("$0.000001");
    expect(formatUsd(12_500_000)).toBe("$12.50");
    expect(formatUsd(1_234_567_890n)).toBe("$1,234.56789");
    expect(formatUsd(123_456_789_012_345_678_901n)).toBe("$123,456,789,012,345.678901");
    expect(formatUsd(-1_500_000)).toBe("-$1.50");
  });

  it("writes integers with separators, exactly however large", () => {
    expect(formatInt(1234567)).toBe("1,234,567");
    expect(formatInt(98765432109876543210n)).toBe("98,765,432,109,876,543,210");
  });

  it("writes prices per million tokens, a share rounded down, and latencies", () => {
    expect(formatPerMillion(0)).toBe("free");
    expect(formatPerMillion(0.2)).toBe("$0.20");
    expect(formatShare(9996, 10000)).toBe("99.9%");
    expect(formatShare(5, 5)).toBe("100%");
    expect(formatShare(0, 0)).toBe("–");
    expect(formatMs(null)).toBe("–");
    expect(formatMs(87.4)).toBe("87 ms");
    expect(formatMs(2500)).toBe("2.50 s");
  });

  it("escapes text for HTML", () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe(
      "&#60;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&#62;&#38;",
    );
  });
});
