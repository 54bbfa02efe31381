import { describe, expect, it } from "vitest";
import { newNodeState, type RouteNode } from "../routing/index.js";
import { RELAY_FAILURE_HEADER } from "../durable/node-session/relays.js";
import { nodeAbsent } from "./node-transport.js";

function node(transport: RouteNode["transport"]): RouteNode {
  return {
    id: "n",
    origin: "https://n.example",
    transport,
    declaredCapacity: 4,
    othersInFlight: 0,
    models: new Map([["m", null]]),
    contextLengths: new Map(),
    responsesApi: new Set(),
    state: newNodeState(0),
    probe: null,
  };
}

const answer = (code: string | null) =>
  new Response("{}", { status: 503, headers: code === null ? {} : { [RELAY_FAILURE_HEADER]: code } });

describe("nodeAbsent", () => {
  it("takes a session's word that its node is not there (gone, or not ready)", () => {
    expect(nodeAbsent(node("session"), answer("node_not_connected"))).toBe(true);
    expect(nodeAbsent(node("session"), answer("node_not_ready"))).toBe(true);
  });

  it("does not take it for a full node, an ordinary 503, or from a node dialled at its URL", () => {
    expect(nodeAbsent(node("session"), answer("node_at_capacity"))).toBe(false);
    expect(nodeAbsent(node("session"), answer(null))).toBe(false);
    // A node's own server could send the header; only a session's answer is believed.
    expect(nodeAbsent(node("direct"), answer("node_not_connected"))).toBe(false);
  });
});
