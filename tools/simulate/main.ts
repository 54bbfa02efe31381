// `npm run simulate [-- --nodes N --seconds S --rate R | --load L --seed N --policy a,b --json]`
//
// Runs Meshgate's router (worker/src/routing, imported, not copied) against a simulated mesh on simulated time and
// compares it with baselines on the very same mesh and workload. Model:
// - Mesh: 10,000 nodes in five regions (round trips 10–250 ms); unloaded TTFT log-normal per request around a
//   per-node median (medians log-normal around 200 ms, within 30 ms–2 s; per-node sigma 0.1–0.5); 5–300 tokens/s;
//   1–32 slots (log-uniform). Honest nodes slow by up to 1.5× at full load and answer 429 when full. 10% flaky
//   (fail 10–50% of requests: 40% 5xx, 30% error envelope in a 200, 30% stall mid-stream), 5% adversarial in equal
//   thirds: stall (accept, never a first token → 10 s first-token timeout), fast-error (5 ms 5xx or error envelope),
//   capacity liar (declares 32, holds 2; TTFT × (1 + queue) past 2; 429 past 8).
// - Churn: 2% of nodes per minute leave or go dark (30% dark), as many join (new to the router). A clean leave refuses
//   new requests and drops out of the table at the next rebuild; a dark node's connections fail after a 2 s connect
//   timeout and it stays listed until its heartbeats lapse (10 s). Requests on a node that goes dark time out (no
//   first token yet) or stall (streaming), detected after 10 s.
// - Workload: Poisson arrivals, one model; by default 40% of the starting honest nodes' slots busy on average
//   (Little's law over their mean service time); answers log-normal around 100 tokens. A dispatch holds a slot for
//   TTFT + tokens / speed. Up to 3 attempts per request; a failure before the first token fails over to another
//   node (the failed ones excluded), a mid-stream failure cannot (the client already has tokens).
// - meshgate = admission cells: the nodes are split over `--cells` cells (cellOf); each cell rebuilds its own table
//   of its nodes every second (state carried over), grants every slot (a lease) and so decides with exact in-flight
//   counts (pickNode, load = leases), and learns each outcome when the release reaches it (`--release-delay` after the
//   attempt ends; the slot stays leased until then). Each of `--isolates` gateway isolates (requests spread
//   round-robin) chooses a cell from its own view (chooseCell), fed only by directory snapshots (cells push every
//   second; an isolate refetches after `--snapshot-ttl`) and by the replies to its own acquires (a round trip later);
//   every acquire costs the request one `--cell-rtt`, and a full cell sends it to another (up to 4).
// - meshgate-shared = the router before cells: one table rebuilt every second, every outcome applied at once, nodes
//   report in-flight every 2 s, load = own in-flight + the others' (last report less own), shared by all isolates
//   (as if the registry merged outcomes instantly: optimistic). Both: every node is probed every 60 s.
// - Oracle: knows true latencies, bad nodes and free slots; sends each attempt to the honest node with the lowest
//   round trip + median TTFT that has a free slot (fill fastest first).
// - Baselines (same failover, same outcomes fed to the table): uniform random and round-robin over the listed nodes;
//   lowest-latency = argmin of the router's expectedTtft (Peak EWMA), without load, capacity or ejection.
// Metrics cover requests arriving after the warm-up (first 20%). Latency is client-observed: arrival to the first
// token, including failovers and timeouts; a failed request (no answer, or a stream broken mid-way) counts as infinite.
// Regret at pXX = pXX(policy) / pXX(oracle) − 1; mean regret = mean over the requests both answered of latency / the
// oracle's latency for the same request − 1.
// Decision time: process.hrtime.bigint() around each policy call, summed per request. Seeded and deterministic (all
// but decision and wall times): every purpose draws from its own stream (random.ts). Exit code 0 either way.
import { parseArgs } from "node:util";
import { formatTable, formatVerdicts, judge } from "./report.js";
import { CELL_RATE, POLICIES, simulate, type SimulateOptions } from "./simulate.js";

const HELP = `Usage: npm run simulate [-- options]

Runs Meshgate's router against a simulated mesh and compares it with an oracle and baselines.

  --nodes N      nodes at the start (default 10000)
  --seconds S    simulated seconds (default 120)
  --load L       share of honest slots kept busy, 0..1 (default 0.4)
  --rate R       requests per second (overrides --load)
  --warmup F     share of the run before measurement starts (default 0.2)
  --seed N       seed (default 1)
  --policy LIST  comma-separated, from ${Object.keys(POLICIES).join(", ")} (default all; the oracle always runs)
  --isolates N   gateway isolates sharing the traffic round-robin, each with its own knowledge (default 1)
  --cells N      admission cells the nodes are split over (default: one per ${CELL_RATE} requests/s)
  --snapshot-ttl MS   how long an isolate uses a directory snapshot of the cells (default 2000)
  --release-delay MS  from an attempt's end until its cell hears the release (default 20)
  --cell-rtt MS       one isolate↔cell round trip, paid by every acquire (default 5)
  --json         print the results as JSON instead of the table
  -h, --help     show this help
`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, not ${raw}`);
  return v;
}

function nonNegative(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number ≥ 0, not ${raw}`);
  return v;
}

function parseOptions(): (SimulateOptions & { json: boolean }) | null {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string" },
      seconds: { type: "string" },
      load: { type: "string" },
      rate: { type: "string" },
      warmup: { type: "string" },
      seed: { type: "string" },
      policy: { type: "string" },
      isolates: { type: "string" },
      cells: { type: "string" },
      "snapshot-ttl": { type: "string" },
      "release-delay": { type: "string" },
      "cell-rtt": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return null;
  const warmup = values.warmup === undefined ? 0.2 : Number(values.warmup);
  if (!(warmup >= 0 && warmup < 1)) throw new Error(`--warmup must be in [0, 1), not ${values.warmup}`);
  const policies =
    values.policy
      ?.split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "" && p !== "oracle") ?? Object.keys(POLICIES);
  for (const p of policies)
    if (!(p in POLICIES)) throw new Error(`unknown policy ${p}; known: ${Object.keys(POLICIES).join(", ")}`);
  return {
    nodes: Math.round(positive("nodes", values.nodes, 10_000)),
    seconds: positive("seconds", values.seconds, 120),
    load: positive("load", values.load, 0.4),
    rate: values.rate === undefined ? null : positive("rate", values.rate, 1),
    warmup,
    seed: Math.round(positive("seed", values.seed, 1)),
    policies,
    isolates: Math.round(positive("isolates", values.isolates, 1)),
    cells: values.cells === undefined ? null : Math.round(positive("cells", values.cells, 1)),
    snapshotTtlMs: nonNegative("snapshot-ttl", values["snapshot-ttl"], 2_000),
    releaseDelayMs: nonNegative("release-delay", values["release-delay"], 20),
    cellRttMs: nonNegative("cell-rtt", values["cell-rtt"], 5),
    json: values.json,
  };
}

function main(): void {
  const options = parseOptions();
  if (!options) {
    process.stdout.write(HELP);
    return;
  }
  const { json, ...o } = options;
  const started = performance.now();
  const report = simulate(o, (line) => process.stderr.write(`simulate: ${line}\n`));
  const meshgate = report.metrics.find((m) => m.policy === "meshgate");
  const verdicts = meshgate ? judge(meshgate, report.meshNodes) : [];
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...report, verdicts }, null, 2)}\n`);
    return;
  }
  const wall = (performance.now() - started) / 1000;
  process.stdout.write(
    `Meshgate routing simulation: seed ${o.seed}, ${report.meshNodes} nodes (+${report.joiners} joining), ${o.seconds} s simulated ` +
      `(first ${Math.round(o.warmup * 100)}% warm-up), ${report.ratePerSecond.toFixed(0)} requests/s, ${report.requests} requests, ` +
      `${o.isolates} gateway isolate${o.isolates === 1 ? "" : "s"}, ${report.cells} cell${report.cells === 1 ? "" : "s"} ` +
      `(snapshot ttl ${o.snapshotTtlMs} ms, release delay ${o.releaseDelayMs} ms, cell rtt ${o.cellRttMs} ms); ` +
      `${wall.toFixed(0)} s wall\n\n`,
  );
  process.stdout.write(`${formatTable(report.metrics)}\n\n`);
  if (verdicts.length > 0) process.stdout.write(`${formatVerdicts(verdicts)}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`simulate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
