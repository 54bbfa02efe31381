import { describe, expect, it } from "vitest";
import { HEARTBEAT_VERIFY_TARGET } from "./format.js";
import {
  cpuPerHeartbeat,
  formatHeartbeatPath,
  heartbeatPathResult,
  mountFsType,
  pathRate,
  pathReproduceCommand,
  type PathMeasurements,
  type PathRound,
} from "./path-format.js";

const OPTS = { nodes: 2000, rounds: 3, concurrency: 32 };

function round(seconds: number, cpu: Partial<PathRound> = {}): PathRound {
  return { heartbeats: 2000, seconds, workerdCpuSeconds: 1, clientCpuSeconds: 0.5, machineCpuSeconds: 2, ...cpu };
}

function measurements(rounds: PathRound[], over: Partial<PathMeasurements> = {}): PathMeasurements {
  return {
    rounds,
    latenciesMs: Array.from({ length: 101 }, (_, i) => i),
    rateLimit: null,
    challengesDuringRounds: 0,
    warmupSeconds: 12.3,
    storage: { dir: "/tmp", fsType: "ext4" },
    ...over,
  };
}

describe("heartbeatPathResult", () => {
  it("reports the median round's rate and latency quantiles over every heartbeat", () => {
    const r = heartbeatPathResult(OPTS, measurements([round(4), round(1), round(2)]));
    expect(r.samples).toEqual([500, 2000, 1000]);
    expect(r.perSecond).toBe(1000);
    expect(r.latencyMs).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(r.heartbeats).toBe(6000);
    expect(r.client).toBe("fetch");
  });

  it("judges against the 5,000/s target, inclusively", () => {
    const at = heartbeatPathResult(OPTS, measurements([round(2000 / HEARTBEAT_VERIFY_TARGET)]));
    expect(at.target).toBe(5000);
    expect(at.pass).toBe(true);
    expect(heartbeatPathResult(OPTS, measurements([round(2000 / (HEARTBEAT_VERIFY_TARGET - 1))])).pass).toBe(false);
  });

  it("refuses an empty measurement", () => {
    expect(() => heartbeatPathResult(OPTS, measurements([]))).toThrow(/no rounds/);
  });
});

describe("cpuPerHeartbeat", () => {
  it("sums CPU over rounds and divides by heartbeats and by wall time", () => {
    const cpu = cpuPerHeartbeat([round(2), round(2)]);
    expect(cpu.workerdUs).toBeCloseTo(500); // 2 s over 4,000 heartbeats
    expect(cpu.clientUs).toBeCloseTo(250);
    expect(cpu.otherUs).toBeCloseTo(250); // machine 4 − workerd 2 − client 1
    expect(cpu.workerdCores).toBeCloseTo(0.5);
    expect(cpu.otherCores).toBeCloseTo(0.25);
  });

  it("leaves workerd and the rest unknown when any round could not read them", () => {
    const cpu = cpuPerHeartbeat([round(1), round(1, { workerdCpuSeconds: null, machineCpuSeconds: null })]);
    expect(cpu.workerdUs).toBeNull();
    expect(cpu.otherUs).toBeNull();
    expect(cpu.clientUs).toBeCloseTo(250);
  });
});

describe("mountFsType", () => {
  const mounts = ["/dev/vda / ext4 rw 0 0", "tmpfs /dev/shm tmpfs rw 0 0", "tmpfs /tmpx tmpfs rw 0 0", ""].join("\n");
  it("takes the longest mount point containing the directory", () => {
    expect(mountFsType("/dev/shm", mounts)).toBe("tmpfs");
    expect(mountFsType("/dev/shm/a", mounts)).toBe("tmpfs");
    expect(mountFsType("/tmp", mounts)).toBe("ext4");
  });
  it("does not treat a mount point as a prefix of a sibling name", () => {
    expect(mountFsType("/tmpxyz", mounts)).toBe("ext4");
  });
});

describe("formatHeartbeatPath", () => {
  it("prints the rate, latency, CPU, the storage note and the reproduce command", () => {
    const text = formatHeartbeatPath(heartbeatPathResult(OPTS, measurements([round(2), round(2), round(2)])));
    expect(text).toContain("accepted/s  1,000  target ≥ 5,000/s: BELOW");
    expect(text).toContain("p50 50.0 ms, p99 99.0 ms");
    expect(text).toContain("workerd 500 µs");
    expect(text).toContain("under /tmp (ext4); each commit's fsync");
    expect(text).toContain(`Reproduce: ${pathReproduceCommand(OPTS)}`);
    expect(text).not.toContain("HEARTBEAT_RATE_LIMIT");
  });

  it("says when the rate limit was raised and which client was used", () => {
    const opts = { ...OPTS, client: "http" as const, storageDir: "/dev/shm" };
    const r = heartbeatPathResult(
      opts,
      measurements([round(1)], { rateLimit: "6000/1000", storage: { dir: "/dev/shm/meshgate-x", fsType: "tmpfs" } }),
    );
    const text = formatHeartbeatPath(r);
    expect(text).toContain("HEARTBEAT_RATE_LIMIT=6000/1000");
    expect(text).toContain("client (http)");
    expect(text).toContain(
      "Reproduce: node --import tsx tools/bench/heartbeats/path-run.ts --nodes 2000 --rounds 3 --concurrency 32 " +
        "--client http --storage-dir /dev/shm",
    );
    expect(text).not.toContain("fsync");
  });
});

describe("pathRate", () => {
  it("is heartbeats over seconds", () => expect(pathRate({ heartbeats: 10, seconds: 0.5 })).toBe(20));
});
