// How a signed request reaches a node: fetched from the node's proven URL, or sent down the session the node dialled
// in on (durable/node-session). Either way the node gets the same signed request and the gateway reads the same
// Response, so dispatch, cancels, metering and receipts do not care which.
import { nodeSession } from "../durable/names.js";
import { RELAY_FAILURE_HEADER } from "../durable/node-session/relays.js";
import type { RouteNode } from "../routing/index.js";

export type NodeFetch = (node: RouteNode, request: Request) => Promise<Response>;

export function nodeFetch(env: Env): NodeFetch {
  return (node, request) => (node.transport === "session" ? nodeSession(env, node.id).fetch(request) : fetch(request));
}

/** Relay failures that mean the node is not there to ask (its socket is gone, or it has not said what it serves). */
const ABSENT: ReadonlySet<string> = new Set(["node_not_connected", "node_not_ready"]);

/**
 * The node's session answered for it that it is not there: not an answer of the node's, so it neither counts
 * against the node nor ends the request. Only a session's own answer can say so.
 */
export function nodeAbsent(node: RouteNode, response: Response): boolean {
  return node.transport === "session" && ABSENT.has(response.headers.get(RELAY_FAILURE_HEADER) ?? "");
}
