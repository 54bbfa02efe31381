// A node's routing state as the admin listing shows it: rounded, with times as ISO 8601.
import type { RoutingState } from "@meshgate/schemas";
import { decay, effectiveCapacity, isEjected, onProbation, trust, type NodeState } from "../routing/index.js";

const round = (value: number, places: number): number => Math.round(value * 10 ** places) / 10 ** places;

export function routingState(state: NodeState, declaredCapacity: number, now: number): RoutingState {
  const learned = state.learnedCapacity ? effectiveCapacity(declaredCapacity, state.learnedCapacity, now) : null;
  return {
    trust: round(trust(decay(state.reputation, now)), 3),
    ejected_until: isEjected(state.outlier, now) ? new Date(state.outlier.ejectedUntil).toISOString() : null,
    ejections: state.outlier.ejections,
    probation: onProbation(state.outlier, now),
    learned_capacity: learned !== null && learned < declaredCapacity ? learned : null,
    models: Object.fromEntries(
      Object.entries(state.perf).map(([model, p]) => [
        model,
        {
          ttft_ms: p.ttft ? round(p.ttft.ms, 1) : null,
          tokens_per_second: p.throughput ? round(p.throughput.tokensPerSecond, 1) : null,
          samples: p.samples,
        },
      ]),
    ),
  };
}
