// Everything the router has learned about one node, and how one outcome changes it. Shared by the registry (which
// folds every isolate's outcomes in batches) and each isolate (which applies its own at once, until the next snapshot).
import { learnFromBusy, type LearnedCapacity } from "./capacity.js";
import { updateLatency, type LatencyEstimate } from "./latency.js";
import { FAILURE_WEIGHT, isFailure, isSevere, type Outcome } from "./outcome.js";
import {
  eject,
  isEjected,
  newOutlierState,
  onProbation,
  outlierFailure,
  outlierSuccess,
  type OutlierState,
} from "./outlier.js";
import { latencySample } from "./prefill.js";
import { newReputation, recordOutcome, type Reputation } from "./reputation.js";
import { updateThroughput, type ThroughputEstimate } from "./throughput.js";
import { addTimeoutEvidence, timeoutsEject, type TimeoutEvidence } from "./timeout-evidence.js";

/** Per node and model: how fast it starts answering and how fast it streams. */
export interface ModelPerf {
  ttft: LatencyEstimate | null;
  throughput: ThroughputEstimate | null;
  /** Successful answers measured (not decayed): how much the estimates rest on. */
  samples: number;
}

export interface NodeState {
  reputation: Reputation;
  outlier: OutlierState;
  learnedCapacity: LearnedCapacity | null;
  perf: Record<string, ModelPerf>;
  /** Recent timeouts counted against the node, by client: enough distinct ones eject it. */
  timeouts: TimeoutEvidence[];
}

export function newNodeState(at: number): NodeState {
  return { reputation: newReputation(at), outlier: newOutlierState(at), learnedCapacity: null, perf: {}, timeouts: [] };
}

const NO_PERF: ModelPerf = { ttft: null, throughput: null, samples: 0 };

/** Model ids are arbitrary strings ("constructor", "__proto__"): only the record's own keys count. */
function ownPerf(perf: Record<string, ModelPerf>, model: string): ModelPerf {
  return Object.hasOwn(perf, model) ? (perf[model] ?? NO_PERF) : NO_PERF;
}

export function perfOf(state: NodeState, model: string): ModelPerf {
  return ownPerf(state.perf, model);
}

export interface ObserveContext {
  /** The node's declared capacity, which a 429 can only lower. */
  declaredCapacity: number;
  /** False when the share of ejected nodes is at its cap. */
  mayEject: boolean;
}

export function observe(state: NodeState, o: Outcome, ctx: ObserveContext): NodeState {
  const now = o.at;
  if (o.kind === "busy") {
    return {
      ...state,
      learnedCapacity: learnFromBusy(state.learnedCapacity, o.inFlight ?? 0, ctx.declaredCapacity, now),
    };
  }
  if (isFailure(o.kind)) {
    // Requests still in flight when the node was ejected fail meanwhile: they say nothing new about it.
    if (isEjected(state.outlier, now)) return state;
    if (o.kind === "timeout") return observeTimeout(state, o, ctx);
    return {
      ...state,
      reputation: recordOutcome(state.reputation, false, now, FAILURE_WEIGHT[o.kind]),
      outlier: outlierFailure(state.outlier, now, ctx.mayEject, isSevere(o.kind)),
    };
  }
  return {
    ...state,
    reputation: recordOutcome(state.reputation, true, now),
    outlier: outlierSuccess(state.outlier, now),
    perf: withPerf(state.perf, o.model, (p) => ({
      ttft: o.ttftMs === null ? p.ttft : latencyWith(p.ttft, o.ttftMs, o.promptTokens, now),
      throughput:
        o.tokens === null || o.streamMs === null
          ? p.throughput
          : updateThroughput(p.throughput, { tokens: o.tokens, streamMs: o.streamMs }, now),
      samples: p.samples + 1,
    })),
  };
}

function latencyWith(
  prev: LatencyEstimate | null,
  ttftMs: number,
  promptTokens: number | undefined,
  now: number,
): LatencyEstimate {
  const sample = latencySample(ttftMs, promptTokens);
  return updateLatency(prev, sample.ms, now, undefined, sample.weight);
}

/**
 * A timeout counted against the node (timeout-evidence.ts): a failure of the record, and a latency sample (the node
 * took at least that long, and Peak EWMA believes it at once, which drains it of traffic). It ejects only once
 * enough distinct clients have seen one, or while the node is on probation (one ejection already rested on them):
 * one client's timeouts, however many, never count as a streak or a failure rate.
 */
function observeTimeout(state: NodeState, o: Outcome, ctx: ObserveContext): NodeState {
  const now = o.at;
  const timeouts = addTimeoutEvidence(state.timeouts, o.client ?? "", now);
  const ejects = timeoutsEject(timeouts, now);
  const outlier =
    ejects || onProbation(state.outlier, now)
      ? outlierFailure(state.outlier, now, ctx.mayEject, ejects)
      : state.outlier;
  return {
    ...state,
    reputation: recordOutcome(state.reputation, false, now, FAILURE_WEIGHT.timeout),
    outlier,
    // Evidence that has ejected the node is spent: it returns judged on what it does next.
    timeouts: isEjected(outlier, now) ? [] : timeouts,
    perf:
      o.ttftMs === null
        ? state.perf
        : withPerf(state.perf, o.model, (p) => ({
            ...p,
            ttft: latencyWith(p.ttft, o.ttftMs ?? 0, o.promptTokens, now),
          })),
  };
}

function withPerf(
  perf: Record<string, ModelPerf>,
  model: string,
  change: (p: ModelPerf) => ModelPerf,
): Record<string, ModelPerf> {
  return { ...perf, [model]: change(ownPerf(perf, model)) };
}

/** A failed reachability probe takes the node out at once (ejection rules and timing); a good one changes nothing
 * here: its round-trip time is the node's latency prior (node-estimates.ts). */
export function observeProbe(state: NodeState, reachable: boolean, at: number, mayEject: boolean): NodeState {
  return reachable || !mayEject ? state : { ...state, outlier: eject(state.outlier, at) };
}
