// Measurements for the result and format tests: round numbers whose derived figures are easy to check by hand.
import type { CpuWindow, KeepAliveWindow, SessionBenchOptions, SessionMeasurements } from "./result.js";

export const OPTIONS: SessionBenchOptions = {
  nodes: 1_000,
  holdSeconds: 60,
  quietSeconds: 5,
  concurrency: 64,
  nodesPerGateway: 2_500,
  storageDir: "/dev/shm",
  deflate: false,
  restart: true,
  attemptTimeoutMs: 10_000,
};

export const cpu = (seconds: number, workerd: number | null): CpuWindow => ({
  seconds,
  workerdCpuSeconds: workerd,
  clientCpuSeconds: 0.5,
  machineCpuSeconds: workerd === null ? null : workerd + 1.5,
});

export const window = (seconds: number, workerd: number | null, pings: number, alarms: number): KeepAliveWindow => ({
  ...cpu(seconds, workerd),
  pings,
  alarms: { answered: alarms, sent: alarms - 10 },
});

/**
 * 1,000 nodes: an alarm costs 1 ms (quiet: 400 alarms, 0.4 s), a ping 20 µs (burst: 5,000 pings and 100 alarms in
 * 0.2 s), the hold 12,000 pings and 4,000 alarms (4.24 s), 1,000 state changes at 300 µs plus 400 pings and 50 alarms.
 */
export function measurements(over: Partial<SessionMeasurements> = {}): SessionMeasurements {
  return {
    gateways: 1,
    idleCoresBaseline: 0,
    storm: {
      ...cpu(4, 2.5),
      live: 1_000,
      attempts: 1_010,
      retries: 10,
      failures: { ECONNRESET: 10 },
      latencyMs: { p50: 100, p99: 300, max: 400 },
      peakLivePerSecond: 300,
      halted: {},
      registryCalls: { connects: 1_000, statesPassedOn: 1_000 },
    },
    memory: { baselineKb: 70_000, connectedKb: 400_000, heldKb: 410_000, baselineFds: 40, connectedFds: 4_040 },
    hold: window(60, 12_000 * 20e-6 + 4_000 * 1e-3, 12_000, 4_000),
    quiet: window(5, 0.4, 0, 400),
    burst: window(2, 5_000 * 20e-6 + 100 * 1e-3, 5_000, 100),
    wake: {
      ...window(3, 1_000 * 300e-6 + 400 * 20e-6 + 50 * 1e-3, 400, 50),
      accepted: 1_000,
      refused: 0,
      lost: 0,
      unanswered: 0,
      latencyMs: { p50: 50, p99: 90, max: 100 },
    },
    registry: { liveSessions: 1_000, touchedDuringHold: 0, capacityUpdated: 1_000 },
    drop: null,
    restart: null,
    silenced: 0,
    steadyDrops: {},
    steadyFailures: {},
    gatewayLog: {},
    heartbeatCpuUs: 600,
    heartbeatCpuMeasured: true,
    ...over,
  };
}
