import { describe, expect, it } from "vitest";
import { SessionClose } from "@meshgate/schemas";
import { describeClose, nextStep, REPLACED_MESSAGE } from "./close-policy.js";
import type { ConnectionEnd } from "./session-connection.js";

const closed = (code: number, reason = ""): ConnectionEnd => ({
  code,
  reason,
  refusal: null,
  error: null,
  welcomed: true,
  openForMs: 1_000,
});
const refused = (code: string | null): ConnectionEnd => ({
  ...closed(1006),
  welcomed: false,
  openForMs: 0,
  refusal: { status: 401, code, description: `401 ${code}: no` },
});

describe("after a session ends", () => {
  it("reconnects with backoff after deploys, blips and protocol errors", () => {
    for (const code of [1000, 1001, 1006, SessionClose.restart, SessionClose.protocolError, SessionClose.silent])
      expect(nextStep(closed(code))).toMatchObject({ kind: "reconnect", wait: "backoff", reloadKey: false });
  });

  it("stops for good when replaced by another agent with the node's key", () => {
    expect(nextStep(closed(SessionClose.replaced))).toEqual({ kind: "halt", why: REPLACED_MESSAGE });
  });

  it("dials again after a backoff when a session signed later than its upgrade is live", () => {
    // Its own half-open socket after the clock stepped back, or another agent: either way the next upgrade, signed
    // later, settles it (and a real second agent is then told it was replaced).
    expect(nextStep(refused("session_superseded"))).toMatchObject({ kind: "reconnect", wait: "backoff" });
  });

  it("retries a ban slowly, and a rotated key at once with the key reloaded", () => {
    expect(nextStep(closed(SessionClose.banned))).toMatchObject({ kind: "reconnect", wait: "cap" });
    expect(nextStep(closed(SessionClose.keyRotated))).toMatchObject({
      kind: "reconnect",
      wait: "now",
      reloadKey: true,
    });
  });

  it("reads refused upgrades by their error code", () => {
    expect(nextStep(refused("revoked_key"))).toMatchObject({ wait: "backoff", reloadKey: true });
    expect(nextStep(refused("node_banned"))).toMatchObject({ wait: "cap", reloadKey: false });
    expect(nextStep(refused(null))).toMatchObject({ wait: "backoff", reloadKey: false });
    expect(nextStep(refused("revoked_key")).why).toBe("the gateway refused the session: 401 revoked_key: no");
  });

  it("tells a session that closed from one that never opened", () => {
    expect(nextStep(closed(1012, "deploy")).why).toBe("session closed (1012 gateway restarting: deploy)");
    expect(nextStep({ ...closed(1006), welcomed: false, openForMs: 0 }).why).toBe(
      "could not open the session (1006 connection lost)",
    );
  });

  it("names close codes for the log", () => {
    expect(describeClose(1012, "deploy")).toBe("1012 gateway restarting: deploy");
    expect(describeClose(4321, "")).toBe("4321");
  });
});
