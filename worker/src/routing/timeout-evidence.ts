// When a first-token timeout is evidence against a node. A timeout is the one failure a client can cause on purpose:
// a prompt whose prefill outlasts the deadline, or any other request shape a backend is slow on, sent to the node it
// names. So a timeout counts against a node only when the request was ordinary and the gateway chose the node, and
// another node then answered the same request in time; and it ejects only when clients with different keys have
// seen it. A hung node under ordinary traffic is drained by its first such timeout (its latency estimate becomes the
// whole deadline) and ejected by the second from another key. Pure: the caller says who asked and when.
import type { RoutingControls } from "./client-controls.js";
import type { Outcome } from "./outcome.js";
import { isLongPrompt } from "./prefill.js";

/**
 * A request that timed out on this many nodes is not tried further: the request, not the nodes, is the likely cause
 * (a prompt too long to prefill in time anywhere), and each more node would cost its client another whole deadline.
 */
export const MAX_TIMEOUTS_PER_REQUEST = 2;
/** Clients (API keys) whose timeouts on one node, within TIMEOUT_EVIDENCE_WINDOW_MS, eject it. */
export const EJECT_AFTER_TIMEOUT_CLIENTS = 2;
/** How long a timeout stays evidence: the reputation's half-life, so one key's old timeout pairs with a new one's. */
export const TIMEOUT_EVIDENCE_WINDOW_MS = 10 * 60_000;
/** Evidence kept per node: a few entries bound the registry row whatever the traffic. */
export const MAX_TIMEOUT_EVIDENCE = 4;

/** One timeout held against a node: who saw it, when. */
export interface TimeoutEvidence {
  client: string;
  at: number;
}

/**
 * The client, not the gateway, chose the node (or narrowed or ordered the choice to a few it can predict: `only`,
 * `ignore`, `sort`, `max_price`): a timeout there says as much about the client's choice as about the node.
 */
export function chosenByClient(controls: RoutingControls, nodeId: string): boolean {
  return (
    controls.order.includes(nodeId) ||
    controls.only !== null ||
    controls.ignore.size > 0 ||
    controls.sort !== null ||
    controls.maxPrice !== null
  );
}

/** A timeout the request's route has not judged yet: reported only once another node has answered. */
export interface HeldTimeout {
  outcome: Outcome;
  chosenByClient: boolean;
}

/**
 * The held timeouts that count against their nodes, once the request has ended: only if a node answered it, for the
 * same model (another model's node proves nothing about this prompt on this one), and only those on ordinary
 * prompts the gateway routed. None when the request ended without an answer, or timed out on two nodes.
 */
export function chargedTimeouts(held: readonly HeldTimeout[], answeredModel: string | null): Outcome[] {
  if (answeredModel === null || held.length >= MAX_TIMEOUTS_PER_REQUEST) return [];
  return held
    .filter((h) => !h.chosenByClient && h.outcome.model === answeredModel && !isLongPrompt(h.outcome.promptTokens))
    .map((h) => h.outcome);
}

/** The evidence with one more timeout, older entries than the window dropped, and at most MAX_TIMEOUT_EVIDENCE kept. */
export function addTimeoutEvidence(list: readonly TimeoutEvidence[], client: string, at: number): TimeoutEvidence[] {
  // One entry per client: the newest; a client repeating itself adds nothing.
  const kept = list.filter((e) => e.client !== client && at - e.at < TIMEOUT_EVIDENCE_WINDOW_MS);
  return [...kept, { client, at }].slice(-MAX_TIMEOUT_EVIDENCE);
}

/** Distinct clients whose timeouts on the node are still evidence at `now`. */
export function timeoutClients(list: readonly TimeoutEvidence[], now: number): number {
  return new Set(list.filter((e) => now - e.at < TIMEOUT_EVIDENCE_WINDOW_MS).map((e) => e.client)).size;
}

/** Enough clients have seen the node time out to eject it. */
export function timeoutsEject(list: readonly TimeoutEvidence[], now: number): boolean {
  return timeoutClients(list, now) >= EJECT_AFTER_TIMEOUT_CLIENTS;
}
