import { afterEach, describe, expect, it, vi } from "vitest";
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
    const gate = new HeartbeatGate(loop, undefined, 0);
    gate.session(true);
    gate.heartbeatStatus("pending_verification");
    expect(gate.paused).toBe(false);
    expect(loop.calls).toEqual(["resume", "resume"]);
  });

  it("pauses once the URL is proven and the session live, in either order", () => {
    const first = recorder();
    const a = new HeartbeatGate(first, undefined, 0);
    a.heartbeatStatus("active");
    a.session(true);
    expect(a.paused).toBe(true);
    expect(first.calls.at(-1)).toBe("pause");

    const second = recorder();
    const b = new HeartbeatGate(second, undefined, 0);
    b.session(true);
    b.heartbeatStatus("active");
    expect(b.paused).toBe(true);
    expect(second.calls.at(-1)).toBe("pause");
  });

  it("resumes whenever the session goes down, and pauses again when it is back", () => {
    const loop = recorder();
    const gate = new HeartbeatGate(loop, undefined, 0);
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
    const gate = new HeartbeatGate(loop, undefined, 0);
    gate.heartbeatStatus("active");
    gate.session(true);
    gate.heartbeatStatus("pending_verification");
    expect(gate.paused).toBe(false);
    expect(loop.calls.at(-1)).toBe("resume");
  });

  it("says when heartbeats pause and resume, once per change", () => {
    const changes: boolean[] = [];
    const gate = new HeartbeatGate(recorder(), (paused) => changes.push(paused), 0);
    gate.session(true);
    gate.heartbeatStatus("active");
    gate.heartbeatStatus("active");
    gate.session(false);
    gate.session(false);
    expect(changes).toEqual([true, false]);
  });

  describe("after its session drops", () => {
    afterEach(() => vi.useRealTimers());

    it("waits out the gateway's grace before heartbeating, and not at all if the session is back within it", () => {
      vi.useFakeTimers();
      const loop = recorder();
      const changes: boolean[] = [];
      const gate = new HeartbeatGate(loop, (paused) => changes.push(paused), 5_000);
      gate.heartbeatStatus("active");
      gate.session(true);
      gate.session(false);
      vi.advanceTimersByTime(4_000);
      expect(loop.calls.at(-1)).toBe("pause");
      gate.session(true);
      vi.advanceTimersByTime(10_000);
      expect(loop.calls.at(-1)).toBe("pause");
      expect(changes).toEqual([true]);

      gate.session(false);
      vi.advanceTimersByTime(5_000);
      expect(loop.calls.at(-1)).toBe("resume");
      expect(changes).toEqual([true, false]);
    });

    it("heartbeats at once when the URL is no longer proven, and sends nothing after it is stopped", () => {
      vi.useFakeTimers();
      const loop = recorder();
      const gate = new HeartbeatGate(loop, undefined, 5_000);
      gate.heartbeatStatus("active");
      gate.session(true);
      gate.heartbeatStatus("pending_verification");
      expect(loop.calls.at(-1)).toBe("resume");

      const stopped = recorder();
      const other = new HeartbeatGate(stopped, undefined, 5_000);
      other.heartbeatStatus("active");
      other.session(true);
      other.session(false);
      other.stop();
      vi.advanceTimersByTime(10_000);
      expect(stopped.calls.at(-1)).toBe("pause");
    });
  });
});
