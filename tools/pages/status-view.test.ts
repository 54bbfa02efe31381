import { describe, expect, it } from "vitest";
import { renderStatus } from "../../worker/public/pages/status-view.js";
import { meshStatus, modelStatus } from "./fixtures.js";

/** The value shown for a headline figure (data-figure="name"). */
function figureValue(html: string, name: string): string | undefined {
  return new RegExp(`data-figure="${name}"><div class="label">[^<]*</div><div class="value">([^<]*)<`).exec(html)?.[1];
}

describe("the status page's markup", () => {
  it("shows the live nodes, the models, the last full minute's requests and the hour's success share", () => {
    const html = renderStatus(meshStatus({ live: 10_000, models: 3, perMinute: 40 }));
    expect(figureValue(html, "live-nodes")).toBe("10,000");
    expect(figureValue(html, "models")).toBe("3");
    expect(figureValue(html, "requests-per-minute")).toBe("40");
    // 39 of every 40 requests succeeded.
    expect(figureValue(html, "success")).toBe("97.5%");
    expect(html.match(/<tr data-model=/g)).toHaveLength(3);
  });

  it("counts the last minute that has ended, not the one still filling up", () => {
    const status = meshStatus({ live: 1, models: 1, perMinute: 5 });
    const minutes = status.traffic.minutes;
    minutes[minutes.length - 1]!.requests = 1;
    expect(figureValue(renderStatus(status), "requests-per-minute")).toBe("5");
  });

  it("writes a model's prices per million tokens, node count, context and first-token latency", () => {
    const status = meshStatus({ live: 2, models: 0, perMinute: 0 });
    status.models = [
      modelStatus("llama", 2, { pricing: { usd_per_million: { prompt: 0.2, completion: 0.6 } }, ttft_ms_p50: 95 }),
      modelStatus("free", 1, { pricing: { usd_per_million: { prompt: 0, completion: 0 } }, ttft_ms_p50: null }),
    ];
    const html = renderStatus(status);
    expect(html).toContain(
      '<tr data-model="llama"><th scope="row">llama</th><td class="num" data-column="nodes">2</td><td class="num">$0.20</td><td class="num">$0.60</td><td class="num">8,192</td><td class="num">95 ms</td></tr>',
    );
    expect(html).toMatch(
      /data-model="free">.*<td class="num">free<\/td><td class="num">free<\/td>.*<td class="num">–<\/td><\/tr>/,
    );
    expect(figureValue(html, "success")).toBe("–");
  });

  it("shows a model name from a node as text, never as markup", () => {
    const status = meshStatus({ live: 1, models: 0, perMinute: 1 });
    status.models = [modelStatus('<img src=x onerror="alert(1)">', 1)];
    const html = renderStatus(status);
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img src=x onerror=&#34;alert(1)&#34;&#62;");
  });

  it("draws one bar per minute of the hour and says when there are no models", () => {
    const html = renderStatus(meshStatus({ live: 0, models: 0, perMinute: 2 }));
    expect(html.match(/<rect class="bar"/g)).toHaveLength(60);
    expect(html).toContain("No live node serves a model right now.");
  });
});
