import { describe, expect, it } from "vitest";
import {
  engineResult,
  formatHeartbeatVerify,
  HEARTBEAT_VERIFY_TARGET,
  heartbeatVerifyResult,
  reproduceCommand,
} from "./format.js";

const OPTS = { nodes: 2000, batch: 2000, rounds: 3 };

describe("engineResult", () => {
  it("reports the median round and its cost per verify", () => {
    const r = engineResult([9000, 1000, 10_000]);
    expect(r.perSecond).toBe(9000);
    expect(r.usPerVerify).toBeCloseTo(111.1, 1);
    expect(r.samples).toEqual([9000, 1000, 10_000]);
  });

  it("averages the middle pair of an even number of rounds", () => {
    expect(engineResult([4000, 2000]).perSecond).toBe(3000);
  });
});

describe("heartbeatVerifyResult", () => {
  it("judges WebCrypto against the target, inclusively", () => {
    const at = heartbeatVerifyResult(OPTS, engineResult([HEARTBEAT_VERIFY_TARGET]), engineResult([100]));
    expect(at.pass).toBe(true);
    expect(at.target).toBe(5000);
    const below = heartbeatVerifyResult(OPTS, engineResult([HEARTBEAT_VERIFY_TARGET - 1]), engineResult([100]));
    expect(below.pass).toBe(false);
  });

  it("ignores noble for the verdict", () => {
    expect(heartbeatVerifyResult(OPTS, engineResult([100]), engineResult([1e6])).pass).toBe(false);
    expect(heartbeatVerifyResult(OPTS, engineResult([1e6]), engineResult([100])).pass).toBe(true);
  });
});

describe("formatHeartbeatVerify", () => {
  it("prints both engines, the verdict and the command to reproduce", () => {
    const text = formatHeartbeatVerify(heartbeatVerifyResult(OPTS, engineResult([12_345.4]), engineResult([600])));
    expect(text).toMatch(/WebCrypto Ed25519\s+12,345\s+81\.0\s+PASS/);
    expect(text).toMatch(/@noble\/ed25519 \(JS\)\s+600\s+1,666\.7\s+below \(reference only\)/);
    expect(text).toContain("target ≥ 5,000/s");
    expect(text).toContain("~24,691 nodes at one heartbeat per 2 s");
    expect(text).toContain(reproduceCommand(OPTS));
    expect(reproduceCommand(OPTS)).toBe(
      "node --import tsx tools/bench/heartbeats/run.ts --nodes 2000 --batch 2000 --rounds 3",
    );
  });

  it("says FAIL when WebCrypto is below the target", () => {
    const text = formatHeartbeatVerify(heartbeatVerifyResult(OPTS, engineResult([4000]), engineResult([6000])));
    expect(text).toMatch(/WebCrypto Ed25519\s+4,000\s+250\.0\s+FAIL/);
    expect(text).toMatch(/meets \(reference only\)/);
  });
});
