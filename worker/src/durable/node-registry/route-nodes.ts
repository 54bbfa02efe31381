// A registry listing turned into what routing decides from: nodes whose URL the policy still allows (heartbeats
// already refuse forbidden URLs; checked again in case the policy changed since a node registered), each model at a
// price within today's ceilings.
import { ceilingFor, priceWithin, SESSION_ORIGIN, type PriceCeilings } from "@meshgate/schemas";
import type { RegistryNode } from "./types.js";
import type { RouteNode } from "../../routing/index.js";
import { checkNodeUrl, type NodeUrlPolicy } from "../../limits/node-url-policy.js";

/** Nodes the URL policy allows now: a session node has no URL of its own to check. */
export function allowedNodes(nodes: readonly RegistryNode[], policy: NodeUrlPolicy): RegistryNode[] {
  return nodes.filter((n) => n.transport === "session" || checkNodeUrl(n.url, policy) === null);
}

/** The node's models routing may use: each at a price within today's ceilings (or free). */
export function offeredModels(n: RegistryNode, ceilings: PriceCeilings): RegistryNode["models"] {
  return n.models.filter((m) => !m.price || priceWithin(m.price, ceilingFor(ceilings, m.id)));
}

/**
 * A model whose price a since-lowered ceiling forbids is not routed to. No requests from elsewhere: the admission cell
 * routing by it grants every slot itself, and what a node reports in flight is its own word.
 */
export function toRouteNode(n: RegistryNode, ceilings: PriceCeilings): RouteNode {
  const offered = offeredModels(n, ceilings);
  return {
    id: n.id,
    origin: n.transport === "session" ? SESSION_ORIGIN : new URL(n.url).origin,
    transport: n.transport,
    declaredCapacity: n.capacity,
    othersInFlight: 0,
    models: new Map(offered.map((m) => [m.id, m.price ?? null])),
    contextLengths: new Map(
      offered.flatMap((m) => (m.context_length === undefined ? [] : [[m.id, m.context_length] as const])),
    ),
    responsesApi: new Set(offered.flatMap((m) => (m.responses_api === true ? [m.id] : []))),
    state: n.state,
    probe: n.probe ? { reachable: n.probe.reachable, rttMs: n.probe.rtt_ms, at: n.probe.at } : null,
  };
}
