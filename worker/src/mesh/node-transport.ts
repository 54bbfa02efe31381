// How a signed request reaches a node: fetched from the node's proven URL, or sent down the session the node dialled
// in on (durable/node-session). Either way the node gets the same signed request and the gateway reads the same
// Response, so dispatch, cancels, metering and receipts do not care which.
import { nodeSession } from "../durable/names.js";
import type { RouteNode } from "../routing/index.js";

export type NodeFetch = (node: RouteNode, request: Request) => Promise<Response>;

export function nodeFetch(env: Env): NodeFetch {
  return (node, request) => (node.transport === "session" ? nodeSession(env, node.id).fetch(request) : fetch(request));
}
