import { describe, expect, it } from "vitest";
import { formatSessionBench, reproduceCommand } from "./format.js";
import { sessionBenchResult, type ReconnectMeasure } from "./result.js";
import { measurements, OPTIONS } from "./result.fixtures.js";

const restart: ReconnectMeasure = {
  cause: "restart",
  cpu: null,
  stopSeconds: 0.5,
  startSeconds: 2.5,
  fromBreak: { p50: 4, p99: 9, p100: 12 },
  fromReady: { p50: 1, p99: 6, p100: 9 },
  downtimeMs: { p50: 4_000, p99: 9_000, max: 12_000 },
  peakLivePerSecond: 250,
  peakAttemptsPerSecond: 900,
  attempts: 3_000,
  failures: { ECONNREFUSED: 2_000 },
  drops: { "4001": 7 },
  halted: { "another agent with this node's key connected to the gateway; this agent stops serving": 7 },
  notLive: 7,
  registryCalls: { connects: 993, statesPassedOn: 0 },
};

describe("reproduceCommand", () => {
  it("names every option that shapes the run", () => {
    expect(reproduceCommand(OPTIONS)).toBe(
      "node --import tsx tools/bench/sessions/run.ts --nodes 1000 --hold-seconds 60 --quiet-seconds 5 " +
        "--concurrency 64 --nodes-per-gateway 2500 --storage-dir /dev/shm",
    );
    expect(reproduceCommand({ ...OPTIONS, deflate: true, restart: false, heartbeatCpuUs: 600 })).toContain(
      "--deflate --skip-restart --heartbeat-cpu-us 600",
    );
  });
});

describe("formatSessionBench", () => {
  const text = formatSessionBench(
    sessionBenchResult(OPTIONS, measurements({ restart }), reproduceCommand(OPTIONS), "2026-01-01T00:00:00.000Z"),
  );

  it("prints each phase's figures", () => {
    expect(text).toContain("1,000 live in 4.0 s (250/s, peak 300/s)");
    expect(text).toContain("330 KB per session (340 after)");
    expect(text).toContain("400 alarms in 5.0 s without pings (390 if pings arrived as sent): 1,000 µs each");
    expect(text).toContain("20.0 µs each, alarms taken out");
    expect(text).toContain("1,000 µs per alarm cycle (wake and later eviction)");
    expect(text).toContain("300 µs each (object woken, one registry RPC, ack)");
    expect(text).toContain("≤ 0.067");
    expect(text).toMatch(/sockets drop +skipped/);
    expect(text).toContain("live again 50% 4.0 s, 99% 9.0 s, 100% 12.0 s after the stop");
    expect(text).toContain("ECONNREFUSED ×2,000");
    expect(text).toContain("7 × 4001 (replaced); 7 stopped for good as the stock agent would");
    expect(text).toContain("7 of 1,000 NOT live again");
  });

  it("prints the registry calls a connect cost, measured beside the code's count", () => {
    expect(text).toContain("first connects: 2.00 registry calls each (1,000 of 1,000 states passed on; 2 by the code)");
    expect(text).toContain("reconnects: 1.00 registry calls each (0 of 993 states passed on; 1 by the code)");
    expect(text).toMatch(/sockets drop +skipped/);
    expect(text).toContain("first connect 2, reconnect 1, changed state 1, unchanged state 0");
  });

  it("prints each node's load per minute and the month's bill beside heartbeats", () => {
    expect(text).toMatch(/silence-alarm invocations +4\.0/);
    expect(text).toMatch(/rows written +4\.0/);
    expect(text).toContain(
      "first connect 9 (17), reconnect 6 (10), changed state 2 (4), unchanged state 0 (0), close 1 (2); a heartbeat 3 (7)",
    );
    expect(text).toMatch(/SQLite rows written \(\$1\/M\) +\$1,728 +\$90,720/);
    expect(text).toMatch(/Workers requests \(\$0\.30\/M\) +\$0 +\$3,888/);
    expect(text).toContain("5,000/s into one NodeRegistry, 5× an object's soft limit");
    expect(text).toContain(`Reproduce: ${reproduceCommand(OPTIONS)}`);
  });

  it("says when the log or the replay found trouble", () => {
    const trouble = formatSessionBench(
      sessionBenchResult(
        OPTIONS,
        measurements({ silenced: 3, gatewayLog: { "error: broken pipe": 411 }, steadyDrops: { "4008": 2 } }),
        "cmd",
        "2026-01-01T00:00:00.000Z",
      ),
    );
    expect(trouble).toContain("closes 3 sessions for silence");
    expect(trouble).toContain("×411  error: broken pipe");
    expect(trouble).toContain("2 closed 4008");
  });
});
