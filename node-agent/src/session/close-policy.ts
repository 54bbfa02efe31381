// What an agent does once its session socket is gone, by how it ended: dial again after a backoff (deploys, network
// blips, refusals that may pass), at once with the key reloaded (the key was rotated), slowly (banned), or never
// (another agent with this node's key took over: two agents serving one node would share its reputation and
// receipts, so the older one steps aside).
import { SessionClose } from "@meshgate/schemas";
import type { ConnectionEnd } from "./session-connection.js";

export type NextStep =
  | {
      kind: "reconnect";
      /** `backoff`: the next jittered delay; `now`: at once; `cap`: a delay drawn from the largest window. */
      wait: "backoff" | "now" | "cap";
      /** Reread the key file first: the gateway no longer takes the key in use. */
      reloadKey: boolean;
      why: string;
    }
  | { kind: "halt"; why: string };

export const REPLACED_MESSAGE = "another agent with this node's key connected to the gateway; this agent stops serving";

const CLOSE_NAMES: ReadonlyMap<number, string> = new Map([
  [1000, "closed normally"],
  [1001, "going away"],
  [1006, "connection lost"],
  [1009, "message too large"],
  [1011, "gateway error"],
  [SessionClose.restart, "gateway restarting"],
  [SessionClose.protocolError, "protocol error"],
  [SessionClose.banned, "node banned"],
  [SessionClose.keyRotated, "key rotated out"],
  [SessionClose.silent, "silent too long"],
]);

/** "1012 gateway restarting: <reason>", for the log. */
export function describeClose(code: number, reason: string): string {
  const name = CLOSE_NAMES.get(code);
  return `${code}${name ? ` ${name}` : ""}${reason ? `: ${reason}` : ""}`;
}

export function nextStep(end: ConnectionEnd): NextStep {
  if (end.refusal) {
    const why = `the gateway refused the session: ${end.refusal.description}`;
    if (end.refusal.code === "revoked_key") return { kind: "reconnect", wait: "backoff", reloadKey: true, why };
    if (end.refusal.code === "node_banned") return { kind: "reconnect", wait: "cap", reloadKey: false, why };
    return { kind: "reconnect", wait: "backoff", reloadKey: false, why };
  }
  const what = end.welcomed ? "session closed" : "could not open the session";
  const why = `${what} (${describeClose(end.code, end.reason)})`;
  switch (end.code) {
    case SessionClose.replaced:
      return { kind: "halt", why: REPLACED_MESSAGE };
    case SessionClose.banned:
      return { kind: "reconnect", wait: "cap", reloadKey: false, why };
    case SessionClose.keyRotated:
      return { kind: "reconnect", wait: "now", reloadKey: true, why };
    default:
      return { kind: "reconnect", wait: "backoff", reloadKey: false, why };
  }
}
