import { describe, expect, it } from "vitest";
import { parseExactJson } from "../../worker/public/pages/exact-json.js";
import { CHART_DAYS, dailySpend, renderUsage, type UsageReport } from "../../worker/public/pages/usage-view.js";

const totals = (cost: number | bigint, requests = 1) => ({
  requests,
  prompt_tokens: 10 * requests,
  completion_tokens: 5 * requests,
  total_tokens: 15 * requests,
  cost,
});

describe("the usage page's markup", () => {
  it("shows the key's spend, requests and tokens, and one table row per day and per model", () => {
    const byDay: UsageReport = {
      totals: totals(3_500_000, 3),
      data: [
        { day: "2026-12-05", ...totals(1_000_000) },
        { day: "2026-12-07", ...totals(2_500_000, 2) },
      ],
    };
    const byModel: UsageReport = { totals: byDay.totals, data: [{ model: "sim-small", ...totals(3_500_000, 3) }] };
    const html = renderUsage(byDay, byModel);
    expect(html).toMatch(/data-figure="spend">.*?<div class="value">\$3\.50</);
    expect(html).toMatch(/data-figure="requests">.*?<div class="value">3</);
    expect(html).toMatch(/data-figure="tokens">.*?<div class="value">45<.*?30 prompt, 15 completion/);
    expect(html).toContain('<tr data-day="2026-12-07"><th scope="row">2026-12-07</th><td class="num">2</td>');
    expect(html).toContain('<tr data-model="sim-small">');
    // The chart shows a fortnight at least, ending on the last day: the day without usage between them at zero.
    expect(html.match(/<rect class="bar"/g)).toHaveLength(14);
    expect(html).toContain("<title>2026-12-06: $0.00</title>");
  });

  it("shows sums beyond 2^53 exactly", () => {
    const text =
      '{"totals":{"requests":1,"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":9007199254740993123},"data":[]}';
    const report = parseExactJson(text) as UsageReport;
    expect(renderUsage(report, report)).toContain("$9,007,199,254,740.993123");
  });

  it("charts a fortnight for a new key, ending on its one day", () => {
    const series = dailySpend([{ day: "2026-12-07", ...totals(7) }]);
    expect(series.map((d) => d.day)).toEqual(
      Array.from({ length: 14 }, (_, i) => new Date(Date.UTC(2026, 10, 24 + i)).toISOString().slice(0, 10)),
    );
    expect(series.map((d) => d.cost)).toEqual([...Array(13).fill(0n), 7n]);
  });

  it("charts at most the newest CHART_DAYS days, gaps at zero", () => {
    const days = [
      { day: "2025-01-01", ...totals(1) },
      { day: "2026-12-07", ...totals(7) },
    ];
    const series = dailySpend(days);
    expect(series).toHaveLength(CHART_DAYS);
    expect(series[series.length - 1]).toEqual({ day: "2026-12-07", cost: 7n });
    expect(series[0]?.cost).toBe(0n);
  });

  it("says so when the key has no usage", () => {
    const empty: UsageReport = { totals: totals(0, 0), data: [] };
    expect(renderUsage(empty, empty)).toContain("No usage yet.");
  });
});
