import { describe, expect, it } from "vitest";
import type { Summary } from "./stats.js";
import { judge, type TargetResult } from "./verdicts.js";

const at = (p50: number): Summary => ({ count: 1, min: p50, mean: p50, p50, p90: p50, p99: p50, max: p50 });

function result(id: TargetResult["id"], p50: number, rps: number, ttfb: number, cpuUs: number): TargetResult {
  return {
    id,
    label: id,
    serverMeter: `cpu-${id}`,
    latency: { latencyMs: at(p50) },
    throughput: {
      requests: 100,
      seconds: 1,
      requestsPerSecond: rps,
      latencyMs: at(p50),
      cpuUsPerRequest: { [`cpu-${id}`]: cpuUs },
      otherCores: 0,
    },
    stream: { firstByteMs: at(ttfb), totalMs: at(90), events: 19, eventArrivals: 19, chunks: 19 },
  };
}

const byName = (verdicts: ReturnType<typeof judge>, prefix: string) =>
  verdicts.find((v) => v.name.trim().startsWith(prefix));

describe("judge", () => {
  it("passes when Meshgate stays within every limit of the baselines", () => {
    const verdicts = judge(
      [
        result("backend", 1.0, 2000, 1, 100),
        result("bare", 1.3, 1000, 1.2, 300),
        result("meshgate", 1.8, 600, 1.9, 500),
      ],
      { meshgateUs: 2_900, bareUs: 1_500 },
    );
    expect(byName(verdicts, "whole-path")).toMatchObject({ measured: expect.closeTo(0.8, 9), pass: true });
    expect(byName(verdicts, "gateway-only")).toMatchObject({ measured: expect.closeTo(0.5, 9), pass: true });
    expect(byName(verdicts, "Meshgate throughput")).toMatchObject({ measured: 0.6, pass: true });
    expect(byName(verdicts, "streamed first byte")).toMatchObject({ measured: expect.closeTo(0.7, 9), pass: true });
    expect(byName(verdicts, "gateway CPU per non-streamed")).toMatchObject({
      measured: expect.closeTo(5 / 3, 9),
      pass: true,
    });
    expect(byName(verdicts, "gateway CPU per 50-event stream")).toMatchObject({
      measured: expect.closeTo(2_900 / 1_500, 9),
      pass: true,
    });
    expect(byName(verdicts, "of which node agent hop")).toBeUndefined();
  });

  it("fails each target that is missed, and splits out the agent hop when measured", () => {
    const verdicts = judge(
      [
        result("backend", 1.0, 2000, 1, 100),
        result("agent", 1.4, 1500, 1.3, 200),
        result("bare", 1.3, 1000, 1.2, 300),
        result("meshgate", 3.0, 400, 2.5, 1_000),
      ],
      { meshgateUs: 3_100, bareUs: 1_500 },
    );
    expect(byName(verdicts, "whole-path")?.pass).toBe(false);
    expect(byName(verdicts, "Meshgate throughput")?.pass).toBe(false);
    expect(byName(verdicts, "streamed first byte")?.pass).toBe(false);
    expect(byName(verdicts, "gateway CPU per non-streamed")?.pass).toBe(false);
    expect(byName(verdicts, "gateway CPU per 50-event stream")?.pass).toBe(false);
    expect(byName(verdicts, "of which node agent hop")).toMatchObject({ measured: expect.closeTo(0.4, 9), pass: null });
    expect(byName(verdicts, "of which gateway logic")).toMatchObject({ measured: expect.closeTo(1.3, 9), pass: null });
  });

  it("refuses results without the baselines", () => {
    expect(() => judge([result("meshgate", 1, 1, 1, 1)])).toThrow(/backend/);
  });
});
