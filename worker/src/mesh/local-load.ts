// Requests this isolate has open to each node, and what the gateway therefore believes each node has in flight.
// Every change is passed on (to the routing table's weights), so a node that just filled up stops being drawn.
import type { RouteNode } from "../routing/index.js";

const localInFlight = new Map<string, number>();
let listener: ((nodeId: string) => void) | null = null;

/** Requests this isolate has open to a node. */
export function localLoad(nodeId: string): number {
  return localInFlight.get(nodeId) ?? 0;
}

/**
 * What the gateway believes a node has in flight: this isolate's own requests, now, plus the others' as last reported.
 */
export function nodeLoad(node: RouteNode): number {
  return node.othersInFlight + localLoad(node.id);
}

export function adjustLoad(nodeId: string, delta: number): void {
  const next = (localInFlight.get(nodeId) ?? 0) + delta;
  if (next <= 0) localInFlight.delete(nodeId);
  else localInFlight.set(nodeId, next);
  listener?.(nodeId);
}

/** One listener: the node snapshot, which keeps its table's weights current. */
export function onLoadChange(callback: (nodeId: string) => void): void {
  listener = callback;
}
