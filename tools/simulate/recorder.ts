// What one policy's run records, as it happens. Requests arriving in the measurement window [warmAt, endAt) count;
// utilisation is integrated over that window. Summaries are computed afterwards (summary.ts).
import type { OutcomeKind } from "@meshgate/worker/routing";
import { isHonest, type Behaviour, type SimNode } from "./mesh.js";

export type OutcomeCounts = Record<OutcomeKind, number>;

export function noOutcomes(): OutcomeCounts {
  return { success: 0, busy: 0, error: 0, timeout: 0, stalled: 0, sse_error: 0, malformed: 0, unmetered: 0 };
}

/** Fifths of the measurement window, to show whether the bad nodes' share is still falling. */
export const PHASES = 5;
/** A decision slower than this is counted (the p99 target). */
export const SLOW_DECISION_US = 50;

export type BehaviourCounts = Record<Behaviour["kind"], number>;

/** Why a request failed: a stream broken after its first token (no failover possible), every attempt failed, or the
 * policy had no node to offer. */
export interface FailureCounts {
  midStream: number;
  exhausted: number;
  noNode: number;
}

export class Recorder {
  /**
   * Client-observed latency per request (by arrival order): to the first token, through failovers and timeouts;
   * Infinity for a request that failed (no answer, or a stream broken after its first token); NaN: not measured.
   */
  readonly latency: Float64Array;
  readonly ok: Uint8Array;
  readonly attempts: Uint8Array;
  /** Time spent in the policy's decisions per request, µs. */
  readonly decisionUs: Float64Array;
  readonly outcomes = noOutcomes();
  readonly phaseAttempts = new Array<number>(PHASES).fill(0);
  readonly phaseBadAttempts = new Array<number>(PHASES).fill(0);
  readonly phaseRequests = new Array<number>(PHASES).fill(0);
  readonly phaseSlowDecisions = new Array<number>(PHASES).fill(0);
  readonly attemptsByKind: BehaviourCounts = { honest: 0, flaky: 0, stall: 0, fast_error: 0, liar: 0 };
  readonly failures: FailureCounts = { midStream: 0, exhausted: 0, noNode: 0 };
  badSuccesses = 0;
  successes = 0;
  /** Dispatches to an honest node already serving its true capacity. */
  overCapacity = 0;
  readonly tableBuildMs: number[] = [];
  private readonly area: Float64Array;
  private readonly lastAt: Float64Array;

  constructor(
    readonly mesh: readonly SimNode[],
    requests: number,
    readonly warmAt: number,
    readonly endAt: number,
  ) {
    this.latency = new Float64Array(requests).fill(Number.NaN);
    this.ok = new Uint8Array(requests);
    this.attempts = new Uint8Array(requests);
    this.decisionUs = new Float64Array(requests).fill(Number.NaN);
    this.area = new Float64Array(mesh.length);
    this.lastAt = new Float64Array(mesh.length).fill(warmAt);
  }

  measured(arrivalAt: number): boolean {
    return arrivalAt >= this.warmAt && arrivalAt < this.endAt;
  }

  private phase(arrivalAt: number): number {
    return Math.min(PHASES - 1, Math.floor(((arrivalAt - this.warmAt) / (this.endAt - this.warmAt)) * PHASES));
  }

  dispatch(node: SimNode, busy: number, arrivalAt: number): void {
    const p = this.phase(arrivalAt);
    this.phaseAttempts[p] = (this.phaseAttempts[p] ?? 0) + 1;
    if (node.bad) this.phaseBadAttempts[p] = (this.phaseBadAttempts[p] ?? 0) + 1;
    this.attemptsByKind[node.behaviour.kind]++;
    if (isHonest(node) && busy >= node.trueCapacity) this.overCapacity++;
  }

  outcome(kind: OutcomeKind): void {
    this.outcomes[kind]++;
  }

  request(
    seq: number,
    arrivalAt: number,
    latencyMs: number,
    servedBy: SimNode | null,
    attempts: number,
    decisionUs: number,
  ): void {
    this.latency[seq] = servedBy ? latencyMs : Infinity;
    this.attempts[seq] = attempts;
    this.decisionUs[seq] = decisionUs;
    const p = this.phase(arrivalAt);
    this.phaseRequests[p] = (this.phaseRequests[p] ?? 0) + 1;
    if (decisionUs > SLOW_DECISION_US) this.phaseSlowDecisions[p] = (this.phaseSlowDecisions[p] ?? 0) + 1;
    if (!servedBy) return;
    this.ok[seq] = 1;
    this.successes++;
    if (servedBy.bad) this.badSuccesses++;
  }

  /**
   * Call just before a node's slot count changes from `busy`: adds busy × the time since the last change. Only while
   * the node is there: requests left hanging on a node that went dark do not count as its use.
   */
  slotsChanging(index: number, busy: number, now: number): void {
    const goneAt = this.mesh[index]?.goneAt ?? Infinity;
    const t = Math.min(this.endAt, goneAt, Math.max(this.warmAt, now));
    this.area[index] = (this.area[index] ?? 0) + busy * Math.max(0, t - (this.lastAt[index] ?? t));
    this.lastAt[index] = t;
  }

  /**
   * Time-averaged busy slots ÷ true slots, per honest node present for at least half the window (a node seen for a
   * moment would make max/mean noise).
   */
  utilisation(): number[] {
    const window = this.endAt - this.warmAt;
    const out: number[] = [];
    for (const node of this.mesh) {
      if (!isHonest(node)) continue;
      const liveMs = Math.min(node.goneAt, this.endAt) - Math.max(node.joinAt, this.warmAt);
      if (liveMs < window / 2) continue;
      out.push((this.area[node.index] ?? 0) / (liveMs * node.trueCapacity));
    }
    return out;
  }
}
