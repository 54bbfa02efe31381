// Meshgate's router before admission cells (`meshgate-shared`): pickNode over one table the simulation rebuilds every
// second, every isolate deciding with its own in-flight counts and the others' as the nodes' heartbeats last said.
import { NO_CONTROLS, pickNode, type PickResult, type RouteNode } from "@meshgate/worker/routing";
import { MODEL, type Policy, type World } from "./policy.js";

/**
 * A pick that asked for more nodes' load than this fell back to scanning the pool (weighted draws look at a handful):
 * counted, since such a pick costs O(nodes) and decides the decision-time tail.
 */
export const SCAN_LOAD_CALLS = 64;

export type MeshgateCounters = Record<PickResult["kind"] | "explored" | "scans", number>;

export function meshgatePolicy(world: World): Policy {
  // The request path parses controls per request; a request without any gets exactly these.
  const controls = NO_CONTROLS(MODEL);
  const counters: MeshgateCounters = { node: 0, explored: 0, unknown_model: 0, no_eligible: 0, saturated: 0, scans: 0 };
  let loadCalls = 0;
  const load = (node: RouteNode): number => {
    loadCalls++;
    return world.load(node);
  };
  return {
    name: "meshgate-shared",
    usesRouter: true,
    counters,
    choose(q) {
      loadCalls = 0;
      const result = pickNode(world.table, {
        model: MODEL,
        controls,
        now: q.now,
        random: world.random,
        load,
        exclude: q.exclude,
        attempt: q.attempt,
      });
      counters[result.kind]++;
      if (loadCalls > SCAN_LOAD_CALLS) counters.scans++;
      if (result.kind !== "node") return null;
      if (result.explored) counters.explored++;
      return result.node;
    },
  };
}
