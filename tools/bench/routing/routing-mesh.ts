// A warmed-up routing table for the decision-time benchmark: nodes with measured latencies, reputations, loads, a few
// ejected and a few still being explored, as the router sees a mesh after it has run for a while. Seeded.
import {
  buildTable,
  newNodeState,
  seededRandom,
  type NodeState,
  type RouteNode,
  type RoutingTable,
} from "@meshgate/worker/routing";

export { seededRandom };

export const BENCH_MODEL = "bench-model";

function warmState(random: () => number, now: number): NodeState {
  const state = newNodeState(now);
  const roll = random();
  if (roll < 0.03) return state; // new: no record yet
  const successes = 5 + Math.floor(random() * 500);
  const failures = roll < 0.15 ? Math.floor(successes * random() * 0.5) : Math.floor(random() * 3);
  const ttftMs = 20 * Math.exp(random() * 4); // 20 ms … 1.1 s
  return {
    ...state,
    reputation: { successes, failures, at: now },
    outlier: { ...state.outlier, ejectedUntil: roll > 0.97 ? now + 60_000 : 0, ejections: roll > 0.97 ? 1 : 0 },
    perf: {
      [BENCH_MODEL]: {
        ttft: { ms: ttftMs, at: now - Math.floor(random() * 30_000) },
        throughput: { tokensPerSecond: 10 + random() * 90, at: now },
        samples: successes,
      },
    },
  };
}

export interface BenchMesh {
  table: RoutingTable;
  loads: Map<string, number>;
  /** Median time buildTable took, ms: what each snapshot refresh costs an isolate. */
  buildMs: number;
}

export function benchMesh(size: number, seed: number, now: number): BenchMesh {
  const random = seededRandom(seed);
  const loads = new Map<string, number>();
  const nodes: RouteNode[] = [];
  for (let i = 0; i < size; i++) {
    const capacity = 1 + Math.floor(random() * 32);
    const id = `node-${i}`;
    // Half the mesh is busy, some of it full: the choice has to skip nodes, not just take the first draw.
    loads.set(id, Math.floor(random() * (capacity + 1)));
    nodes.push({
      id,
      origin: `https://${id}.example`,
      transport: "direct",
      declaredCapacity: capacity,
      othersInFlight: 0,
      contextLengths: new Map(),
      responsesApi: new Set(),
      models: new Map([
        [BENCH_MODEL, { prompt: Math.floor(random() * 1_000_000), completion: Math.floor(random() * 2_000_000) }],
      ]),
      state: warmState(random, now),
      probe: { reachable: true, rttMs: 5 + random() * 200, at: now },
    });
  }
  // The median of several builds: the first ones pay for compiling the code.
  const times: number[] = [];
  let table = buildTable(nodes, now);
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    table = buildTable(nodes, now);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { table, loads, buildMs: times[3] ?? Number.NaN };
}
