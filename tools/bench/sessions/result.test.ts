import { describe, expect, it } from "vitest";
import {
  COST_NODES,
  deriveSession,
  latencyOf,
  otherCores,
  registryCallsPerConnect,
  sessionBenchResult,
} from "./result.js";
import { cpu, measurements, OPTIONS, window } from "./result.fixtures.js";

describe("deriveSession", () => {
  const d = deriveSession(measurements(), 1_000);

  it("prices an alarm from the quiet window, and a ping from the burst with its alarms taken out", () => {
    expect(d.cpuPerAlarmUs).toBeCloseTo(1_000, 6);
    expect(d.cpuPerPingUs).toBeCloseTo(20, 6);
    expect(d.cpuPerAlarmCycleUs).toBeCloseTo(1_000, 6);
    expect(d.cpuPerPingGrossUs).toBeCloseTo((4.24 / 12_000) * 1e6, 6);
  });

  it("prices a state change net of the pings and alarms beside it", () => {
    expect(d.cpuPerStateChangeUs).toBeCloseTo(300, 6);
    expect(d.wakesPerPingAtMost).toBeCloseTo(20 / 300, 6);
  });

  it("takes memory and descriptors per session from the growth over the idle baseline", () => {
    expect(d.memoryPerSessionKb).toEqual({ connected: 330, held: 340 });
    expect(d.fdsPerSession).toBe(4);
    expect(d.cpuPerConnectUs).toBe(2_500);
  });

  it("counts each node's messages and rows per minute", () => {
    expect(d.perNodeMinute.pings).toBe(12);
    expect(d.perNodeMinute.alarms).toBe(4);
    expect(d.perNodeMinute.rowsWritten).toBe(4);
    expect(d.perNodeMinute.registryRpcs).toBe(0);
  });

  it("subtracts what idle workerd uses", () => {
    const idle = deriveSession(measurements({ idleCoresBaseline: 0.01, quiet: window(5, 0.45, 0, 400) }), 1_000);
    expect(idle.cpuPerAlarmUs).toBeCloseTo(1_000, 6);
  });

  it("leaves what it cannot measure unknown rather than wrong", () => {
    const blind = deriveSession(measurements({ quiet: window(5, null, 0, 400) }), 1_000);
    expect(blind.cpuPerAlarmUs).toBeNull();
    expect(blind.cpuPerPingUs).toBeNull();
    expect(blind.wakesPerPingAtMost).toBeNull();
    expect(deriveSession(measurements({ quiet: window(5, 0.4, 0, 0) }), 1_000).cpuPerAlarmUs).toBeNull();
  });
});

describe("sessionBenchResult", () => {
  it("prices 10,000 nodes whatever the run's size, sessions beside heartbeats", () => {
    const r = sessionBenchResult(OPTIONS, measurements(), "cmd", "2026-01-01T00:00:00.000Z");
    expect(r.cost.nodes).toBe(COST_NODES);
    expect(r.cost.rates).toMatchObject({ pingsPerNodeMinute: 12, alarmsPerNodeMinute: 4, rowsPerNodeMinute: 4 });
    expect(r.cost.rates.wakeSeconds).toBeCloseTo(0.001, 9);
    expect(r.cost.heartbeatRowsPerHeartbeat).toBe(7);
    expect(r.cost.registryHeartbeatsPerSecond).toBe(5_000);
    expect(r.cost.sessions.total).toBeLessThan(r.cost.heartbeats.total);
  });
});

describe("latencyOf and otherCores", () => {
  it("summarises a sample, or gives null for none", () => {
    expect(latencyOf([1, 2, 3])).toEqual({ p50: 2, p99: expect.closeTo(2.98, 6), max: 3 });
    expect(latencyOf([])).toBeNull();
  });

  it("attributes the machine's remaining busy time to other processes", () => {
    expect(otherCores(cpu(2, 1))).toBeCloseTo(0.5, 6);
    expect(otherCores(cpu(2, null))).toBeNull();
  });
});

describe("registryCallsPerConnect", () => {
  it("counts openSession for every connect and sessionState where the state reached the registry", () => {
    expect(registryCallsPerConnect({ connects: 100, statesPassedOn: 100 })).toBe(2);
    expect(registryCallsPerConnect({ connects: 100, statesPassedOn: 0 })).toBe(1);
    expect(registryCallsPerConnect({ connects: 100, statesPassedOn: 3 })).toBeCloseTo(1.03);
    expect(registryCallsPerConnect({ connects: 0, statesPassedOn: 0 })).toBeNull();
    expect(registryCallsPerConnect(null)).toBeNull();
  });
});
