// What the router expects of a node right now, from its measured state and its latest probe.
import type { Price } from "@meshgate/schemas";
import { effectiveCapacity } from "./capacity.js";
import { LATENCY_PRIOR_MS } from "./latency.js";
import { perfOf, type NodeState } from "./node-state.js";
import { onProbation } from "./outlier.js";
import { decay, trust } from "./reputation.js";

export interface ProbeView {
  reachable: boolean;
  rttMs: number | null;
  at: number;
}

/** A live node as routing sees it. `state` is replaced as outcomes arrive; the rest comes from heartbeats. */
export interface RouteNode {
  id: string;
  /** Scheme, host and port: request paths are appended to it (a session's reserved origin for "session"). */
  origin: string;
  /** "direct": dialled at its proven URL; "session": reached through the session the node dialled in on. */
  transport: "direct" | "session";
  declaredCapacity: number;
  /**
   * Requests open at the node that the deciding table did not grant. 0 in the Worker, whose admission cells grant
   * every slot; the simulator's `meshgate-shared` comparison (one table per isolate) sets it from heartbeats.
   */
  othersInFlight: number;
  /** Models served, with the node's price (null: free). */
  models: ReadonlyMap<string, Price | null>;
  /** Tokens of context per model, where the node advertised it: no answer is longer. */
  contextLengths: ReadonlyMap<string, number>;
  /** Models whose server serves POST /v1/responses itself: a Responses request is passed through, not translated. */
  responsesApi: ReadonlySet<string>;
  state: NodeState;
  probe: ProbeView | null;
}

/**
 * Inference takes longer than a probe's round trip: a node's first token is assumed to come this much after it.
 * Only a prior, replaced by the first real measurement.
 */
export const PROBE_PRIOR_EXTRA_MS = LATENCY_PRIOR_MS;
/**
 * A latency estimate relaxes back toward the prior with this time constant while no new sample arrives, so a node
 * that was slow once is tried again in a while rather than shunned for ever; slowly, or slow nodes would keep
 * coming back looking like new ones.
 */
export const STALE_LATENCY_TAU_MS = 600_000;

/** The probe's round trip plus PROBE_PRIOR_EXTRA_MS, or LATENCY_PRIOR_MS for a node never reached by a probe. */
export function latencyPrior(node: RouteNode): number {
  const rtt = node.probe?.reachable ? node.probe.rttMs : null;
  return rtt === null ? LATENCY_PRIOR_MS : rtt + PROBE_PRIOR_EXTRA_MS;
}

/** Expected time to first token, ms. */
export function expectedTtft(node: RouteNode, model: string, now: number): number {
  const measured = perfOf(node.state, model).ttft;
  const prior = latencyPrior(node);
  if (!measured) return prior;
  const w = Math.exp(-Math.max(0, now - measured.at) / STALE_LATENCY_TAU_MS);
  return prior + (measured.ms - prior) * w;
}

/** Tokens per second while streaming; null until measured. */
export function expectedThroughput(node: RouteNode, model: string): number | null {
  return perfOf(node.state, model).throughput?.tokensPerSecond ?? null;
}

/**
 * Concurrent requests a node gets while on probation, or while still unproven and proven nodes have room: a trickle,
 * whatever it declares.
 */
export const PROBATION_SLOTS = 1;
export const UNPROVEN_SLOTS = 2;

/**
 * Concurrent requests the router allows the node for `model` now. `overflow`: no proven node can take the request
 * (all full, ejected or tried, or there are none), so an unproven node may use what it declares, lowered by its 429s
 * like any node's and measured against the in-flight count the gateway itself keeps (pick.ts): holding it to a trickle
 * then would refuse requests some node could serve.
 */
export function capacityOf(node: RouteNode, model: string, now: number, overflow = false): number {
  const usable = effectiveCapacity(node.declaredCapacity, node.state.learnedCapacity, now);
  if (onProbation(node.state.outlier, now)) return Math.min(usable, PROBATION_SLOTS);
  return overflow || isProven(node, model) ? usable : Math.min(usable, UNPROVEN_SLOTS);
}

/** Trust from the record decayed to `now`, so a node's old failures fade even while it gets no traffic. */
export function trustOf(node: RouteNode, now: number): number {
  return trust(decay(node.state.reputation, now));
}

/** Fewer measured answers than this for a model, and a node is still being explored for it. */
export const EXPLORE_BELOW_SAMPLES = 3;

/**
 * Enough good answers for this model to trust the node with its full capacity and a place among the candidates
 * (failures prove nothing). Until then it is held back while proven nodes have room (pick.ts).
 */
export function isProven(node: RouteNode, model: string): boolean {
  return perfOf(node.state, model).samples >= EXPLORE_BELOW_SAMPLES;
}

/**
 * Unproven for the model and without a failure on record (decayed to `now`): a candidate for the exploration share,
 * whatever its estimates say. A node that failed leaves it until its record fades; a node on probation is left to
 * its record (the simulation showed a standing trickle to returning nodes is mostly traffic to flaky ones).
 */
export function needsExploring(node: RouteNode, model: string, now: number): boolean {
  return !isProven(node, model) && decay(node.state.reputation, now).failures < 1;
}
