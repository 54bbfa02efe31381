// How a node's routing state (routing/node-state.ts) is kept in the registry's row: the reputation in columns of its
// own (older registries had them), the rest as JSON, and the ejection deadline as a column so ejected nodes can be
// counted in one query.
import { newNodeState, type NodeState } from "../../routing/node-state.js";

export type RoutingColumns = {
  rep_s: number;
  rep_f: number;
  rep_at: number;
  routing: string;
  ejected_until: number;
};

type StoredRouting = Omit<NodeState, "reputation">;

function parseStored(text: string, at: number): StoredRouting {
  const fresh = newNodeState(at);
  try {
    const stored = JSON.parse(text) as Partial<StoredRouting>;
    return {
      // Fields added later take their fresh defaults.
      outlier: { ...fresh.outlier, ...stored.outlier },
      learnedCapacity: stored.learnedCapacity ?? null,
      // Kept as JSON.parse made it: model ids such as "__proto__" stay own keys (routing reads own keys only).
      perf: stored.perf ?? {},
      timeouts: stored.timeouts ?? [],
    };
  } catch {
    // Written by this code only; a row from before routing state existed holds "{}", anything else starts afresh.
    return { outlier: fresh.outlier, learnedCapacity: null, perf: fresh.perf, timeouts: [] };
  }
}

export function stateFromColumns(c: RoutingColumns): NodeState {
  return { reputation: { successes: c.rep_s, failures: c.rep_f, at: c.rep_at }, ...parseStored(c.routing, c.rep_at) };
}

export function columnsFromState(state: NodeState): RoutingColumns {
  const { reputation, ...rest } = state;
  return {
    rep_s: reputation.successes,
    rep_f: reputation.failures,
    rep_at: reputation.at,
    routing: JSON.stringify(rest),
    ejected_until: state.outlier.ejectedUntil,
  };
}

/** The state with per-model estimates kept only for `models`. */
export function withPerfOnly(state: NodeState, models: readonly string[]): NodeState {
  // fromEntries defines own keys, so a model named "__proto__" stays data.
  const perf: NodeState["perf"] = Object.fromEntries(
    models.flatMap((m) => (Object.hasOwn(state.perf, m) && state.perf[m] ? [[m, state.perf[m]]] : [])),
  );
  return { ...state, perf };
}
