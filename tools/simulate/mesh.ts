// The simulated mesh: every node that is there at the start or joins during the run, with its true traits and its
// churn schedule, drawn once from the seed and shared read-only by every policy's run.
import { exponential, logNormal, logUniformInt, stream, STREAM, uniform, type Rng } from "./random.js";

/**
 * - honest: answers well; TTFT grows mildly with load; a 429 at once when full.
 * - flaky: like honest, but fails `failShare` of its requests (a 5xx, an error envelope in a 200, a mid-stream stall).
 * - stall: accepts everything, never sends a first token.
 * - fast_error: answers everything in ~5 ms with a 5xx or an error envelope in a 200.
 * - liar: declares 32 slots, holds `realCapacity`; past that TTFT multiplies with the queue; 429 past 4× real.
 */
export type Behaviour =
  | { kind: "honest" }
  | { kind: "flaky"; failShare: number }
  | { kind: "stall" }
  | { kind: "fast_error" }
  | { kind: "liar"; realCapacity: number };

export interface SimNode {
  index: number;
  id: string;
  region: number;
  /** Gateway ↔ node round trip. */
  rttMs: number;
  /** Median time from the request reaching the node to its first token, unloaded (excludes the round trip). */
  ttftMedianMs: number;
  /** Spread of that time from one request to the next (log-normal sigma). */
  ttftSigma: number;
  tokensPerSecond: number;
  /** Slots the node really has (a liar's real capacity). */
  trueCapacity: number;
  declaredCapacity: number;
  behaviour: Behaviour;
  /** Flaky or adversarial: what the oracle avoids and the "bad share" counts. */
  bad: boolean;
  joinAt: number;
  /** From then on the node serves no new request (Infinity: stays to the end). */
  goneAt: number;
  /** Dark: stops answering without leaving (connections time out); else a clean leave (refuses new requests). */
  dark: boolean;
  /** Until then the registry still lists it: a clean leave drops out at once, a dark node when heartbeats lapse. */
  listedUntil: number;
}

/** Gateway-to-node round trips by region, and the share of nodes in each. */
export const REGIONS: readonly { name: string; rttMs: number; share: number }[] = [
  { name: "same-metro", rttMs: 10, share: 0.3 },
  { name: "same-continent", rttMs: 40, share: 0.3 },
  { name: "neighbour", rttMs: 90, share: 0.2 },
  { name: "far", rttMs: 160, share: 0.15 },
  { name: "antipode", rttMs: 250, share: 0.05 },
];

export const FLAKY_SHARE = 0.1;
export const ADVERSARIAL_SHARE = 0.05;
/** Nodes exit (leave or go dark) at this rate per node and minute, and as many join: the mesh keeps its size. */
export const EXITS_PER_NODE_MINUTE = 0.02;
export const DARK_SHARE_OF_EXITS = 0.3;
/** A dark node stays listed until its heartbeats lapse (the registry's node TTL). */
export const HEARTBEAT_LAPSE_MS = 10_000;
export const LIAR_DECLARED = 32;
export const LIAR_REAL = 2;

export interface MeshOptions {
  seed: number;
  nodes: number;
  durationMs: number;
}

function pickRegion(rng: Rng): number {
  let u = rng.next();
  for (let i = 0; i < REGIONS.length; i++) {
    u -= REGIONS[i]?.share ?? 0;
    if (u < 0) return i;
  }
  return REGIONS.length - 1;
}

function pickBehaviour(rng: Rng): Behaviour {
  const u = rng.next();
  const v = rng.next();
  if (u < ADVERSARIAL_SHARE) {
    const third = ADVERSARIAL_SHARE / 3;
    if (u < third) return { kind: "stall" };
    if (u < 2 * third) return { kind: "fast_error" };
    return { kind: "liar", realCapacity: LIAR_REAL };
  }
  if (u < ADVERSARIAL_SHARE + FLAKY_SHARE) return { kind: "flaky", failShare: 0.1 + 0.4 * v };
  return { kind: "honest" };
}

/** One node's traits and its exit, from a stream of its own (so node i is the same whatever the mesh size). */
export function makeNode(seed: number, index: number, joinAt: number, durationMs: number): SimNode {
  const rng = stream(seed, STREAM.nodeTraits, index);
  const region = pickRegion(rng);
  const behaviour = pickBehaviour(rng);
  const capacity = logUniformInt(rng, 1, 32);
  // Medians across nodes: log-normal around 200 ms, kept within 30 ms .. 2 s.
  const ttftMedianMs = Math.min(2000, Math.max(30, logNormal(rng, 200, 1)));
  const ttftSigma = uniform(rng, 0.1, 0.5);
  const tokensPerSecond = Math.min(300, Math.max(5, logNormal(rng, 40, 0.5)));
  const exitAt = joinAt + exponential(rng, 60_000 / EXITS_PER_NODE_MINUTE);
  const dark = rng.next() < DARK_SHARE_OF_EXITS;
  const exits = exitAt < durationMs;
  const goneAt = exits ? exitAt : Infinity;
  const liar = behaviour.kind === "liar";
  return {
    index,
    id: `sim-node-${index}`,
    region,
    rttMs: REGIONS[region]?.rttMs ?? 0,
    ttftMedianMs,
    ttftSigma,
    tokensPerSecond,
    trueCapacity: liar ? behaviour.realCapacity : capacity,
    declaredCapacity: liar ? LIAR_DECLARED : capacity,
    behaviour,
    bad: behaviour.kind !== "honest",
    joinAt,
    goneAt,
    dark: exits && dark,
    listedUntil: exits ? (dark ? goneAt + HEARTBEAT_LAPSE_MS : goneAt) : Infinity,
  };
}

/** The starting nodes, then joiners at Poisson times, as many per minute as leave on average. */
export function makeMesh(o: MeshOptions): SimNode[] {
  const nodes: SimNode[] = [];
  for (let i = 0; i < o.nodes; i++) nodes.push(makeNode(o.seed, i, 0, o.durationMs));
  const churn = stream(o.seed, STREAM.churn);
  const meanGapMs = 60_000 / (o.nodes * EXITS_PER_NODE_MINUTE);
  for (let at = exponential(churn, meanGapMs); at < o.durationMs; at += exponential(churn, meanGapMs)) {
    nodes.push(makeNode(o.seed, nodes.length, at, o.durationMs));
  }
  return nodes;
}

export function isHonest(node: SimNode): boolean {
  return node.behaviour.kind === "honest";
}
