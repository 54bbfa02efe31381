// Requests this isolate has open to each node, and what the gateway therefore believes each node has in flight.
// Every change is passed on (to the routing table's weights), so a node that just filled up stops being drawn.
import type { RouteNode } from "../routing/index.js";

const localInFlight = new Map<string, number>();
const listeners = new Set<(nodeId: string) => void>();

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

/** One request's hold on one of a node's slots in this isolate. Whoever took it gives it back, once. */
export interface NodeSlot {
  readonly nodeId: string;
  /** Gives the slot back; later calls do nothing. */
  release(): void;
}

/** Takes one of the node's slots now (before anything awaits, so concurrent picks already see it taken). */
export function takeSlot(nodeId: string): NodeSlot {
  adjustLoad(nodeId, 1);
  let held = true;
  return {
    nodeId,
    release() {
      if (!held) return;
      held = false;
      adjustLoad(nodeId, -1);
    },
  };
}

function adjustLoad(nodeId: string, delta: number): void {
  const next = (localInFlight.get(nodeId) ?? 0) + delta;
  if (next <= 0) localInFlight.delete(nodeId);
  else localInFlight.set(nodeId, next);
  for (const listener of listeners) listener(nodeId);
}

/** Calls `callback` with a node's id whenever this isolate's load on it changes; returns what unsubscribes. */
export function onLoadChange(callback: (nodeId: string) => void): () => void {
  listeners.add(callback);
  return () => listeners.delete(callback);
}
