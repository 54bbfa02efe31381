import { describe, expect, it } from "vitest";
import { bill, heartbeatUsage, MINUTES_PER_MONTH, PRICES, sessionUsage } from "./cost.js";

describe("sessionUsage", () => {
  const rates = {
    pingsPerNodeMinute: 12,
    alarmsPerNodeMinute: 4,
    registryRpcsPerNodeMinute: 0,
    rowsPerNodeMinute: 4,
    wakeSeconds: 0.001,
  };

  it("bills pings at 20:1, each alarm as a request and its wake as duration, setAlarm as a row", () => {
    const usage = sessionUsage(10_000, rates);
    const minutes = 10_000 * MINUTES_PER_MONTH;
    expect(usage.doRequests).toBeCloseTo((12 / 20 + 4) * minutes);
    expect(usage.rowsWritten).toBeCloseTo(4 * minutes);
    expect(usage.doGbSeconds).toBeCloseTo(4 * minutes * 0.001 * 0.128);
    expect(usage.workersRequests).toBe(0);
    const dollars = bill(usage);
    expect(dollars.doRequests).toBeCloseTo(298.08, 2);
    expect(dollars.rowsWritten).toBeCloseTo(1728, 6);
    expect(dollars.doGbSeconds).toBeCloseTo(2.7648, 4);
  });

  it("counts registry RPCs as DO requests", () => {
    const busy = sessionUsage(1, { ...rates, registryRpcsPerNodeMinute: 1 });
    expect(busy.doRequests - sessionUsage(1, rates).doRequests).toBeCloseTo(MINUTES_PER_MONTH);
  });
});

describe("heartbeatUsage", () => {
  it("prices 30 heartbeats a minute per node: a Worker request, its CPU, an RPC and its rows each", () => {
    const usage = heartbeatUsage(10_000, {
      heartbeatsPerNodeMinute: 30,
      rowsPerHeartbeat: 3,
      cpuMsPerHeartbeat: 0.5,
      busyObjects: 1,
    });
    const heartbeats = 10_000 * 30 * MINUTES_PER_MONTH;
    expect(usage.workersRequests).toBe(heartbeats);
    const dollars = bill(usage);
    expect(dollars.workersRequests).toBeCloseTo(3888, 6);
    expect(dollars.doRequests).toBeCloseTo(1944, 6);
    expect(dollars.rowsWritten).toBeCloseTo(38_880, 6);
    expect(dollars.workersCpuMs).toBeCloseTo(129.6, 6);
    // One object busy for 30 days at 128 MB.
    expect(dollars.doGbSeconds).toBeCloseTo(2_592_000 * 0.128 * 12.5e-6, 6);
    expect(dollars.total).toBeCloseTo(3888 + 1944 + 38_880 + 129.6 + 4.1472, 3);
  });

  it("uses the published prices", () => {
    expect(PRICES).toMatchObject({ doRequestsPerMillion: 0.15, doGbSecondsPerMillion: 12.5, rowsWrittenPerMillion: 1 });
  });
});
