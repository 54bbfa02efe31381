import { describe, expect, it } from "vitest";
import { HeartbeatGate, heartbeatsNeeded } from "./heartbeat-gate.js";

function recorder(): { calls: string[]; pause(): void; resume(): void } {
  const calls: string[] = [];
  return { calls, pause: () => calls.push("pause"), resume: () => calls.push("resume") };
}

describe("heartbeatsNeeded", () => {
  it("is false only when the URL is proven and the session is live", () => {
    expect(heartbeatsNeeded(false, false)).toBe(true);
    expect(heartbeatsNeeded(false, true)).toBe(true);
    expect(heartbeatsNeeded(true, false)).toBe(true);
    expect(heartbeatsNeeded(true, true)).toBe(false);
  });
});

describe("HeartbeatGate", () => {
  it("keeps heartbeating until the URL is proven, whatever the session", () => {
    const loop = recorder();
    const gate = new HeartbeatGate(loop);
    gate.session(true);
    gate.heartbeatStatus("pending_verification");
    expect(gate.paused).toBe(false);
    expect(loop.calls).toEqual(["resume", "resume"]);
  });

  it("pauses once the URL is proven and the session live, in either order", () => {
    const first = recorder();
    const a = new HeartbeatGate(first);
    a.heartbeatStatus("active");
    a.session(true);
    expect(a.paused).toBe(true);
    expect(first.calls.at(-1)).toBe("pause");

    const second = recorder();
    const b = new HeartbeatGate(second);
    b.session(true);
    b.heartbeatStatus("active");
    expect(b.paused).toBe(true);
    expect(second.calls.at(-1)).toBe("pause");
  });

  it("resumes whenever the session goes down, and pauses again when it is back", () => {
    const loop = recorder();
    const gate = new HeartbeatGate(loop);
    gate.heartbeatStatus("active");
    gate.session(true);
    gate.session(false);
    expect(gate.paused).toBe(false);
    expect(loop.calls.at(-1)).toBe("resume");
    gate.heartbeatStatus("active");
    gate.session(true);
    expect(loop.calls.at(-1)).toBe("pause");
  });

  it("resumes when the gateway no longer finds the URL proven", () => {
    const loop = recorder();
    const gate = new HeartbeatGate(loop);
    gate.heartbeatStatus("active");
    gate.session(true);
    gate.heartbeatStatus("pending_verification");
    expect(gate.paused).toBe(false);
    expect(loop.calls.at(-1)).toBe("resume");
  });

  it("says when heartbeats pause and resume, once per change", () => {
    const changes: boolean[] = [];
    const gate = new HeartbeatGate(recorder(), (paused) => changes.push(paused));
    gate.session(true);
    gate.heartbeatStatus("active");
    gate.heartbeatStatus("active");
    gate.session(false);
    gate.session(false);
    expect(changes).toEqual([true, false]);
  });
});
