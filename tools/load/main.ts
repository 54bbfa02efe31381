// `npm run load`: nothing lost, nothing billed twice, and what recording costs. Two meshes run side by side, each a
// gateway with real agents: "baseline" with metering off (BENCH_UNMETERED, honoured locally only) and "metered".
//   1. latency: rounds of sequential requests, alternating between the two, so both see the same machine — the time
//      recording (reservation round trip, receipt check, usage write) adds to one request, p50/p99;
//   2. throughput: the same N requests at concurrency C on each;
//   3. chaos: N requests at concurrency C on the metered mesh while its agents are SIGKILLed and restarted; then every
//      response a client received is checked against the ledger (exactly once, to the token and micro-unit), a
//      settlement of the last hour is closed (it pays the earlier runs' receipts too, each checked once), no receipt
//      is settled twice or without a billable row, and each agent verifies the settlement against its own receipt log.
// Options: --requests N (default 1200) --concurrency C (64) --nodes K (3) --rounds R (10 rounds of 40 sequential
// requests per side). Exit code 1 when a check fails.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import {
  decodeReceipt,
  MIN_SETTLEMENT_PERIOD_MS,
  type SettlementProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import { MESHGATE_DIR, WRANGLER_TOML } from "../gateway/paths.js";
import { readGatewayConfig } from "../gateway/wrangler-config.js";
import { NODE_AGENT_BIN, pollUntil, shutdown } from "../processes/index.js";
import { summarize } from "../bench/stats.js";
import { runLoad, sendOne, type Timed } from "./client.js";
import { splitSettlement, type SettledLeaf } from "./earlier-receipts.js";
import { checkLedger, type LedgerRow } from "./ledger-check.js";
import { MODEL, startMesh, type Mesh } from "./mesh.js";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    requests: { type: "string" },
    concurrency: { type: "string" },
    nodes: { type: "string" },
    rounds: { type: "string" },
  },
});
const REQUESTS = Number(values.requests ?? 1200);
const CONCURRENCY = Number(values.concurrency ?? 64);
const NODES = Number(values.nodes ?? 3);
const ROUNDS = Number(values.rounds ?? 10);
const PER_ROUND = 40;
const DIR = join(MESHGATE_DIR, "load");
const FEE_BPS = Number(readGatewayConfig(WRANGLER_TOML).vars["GATEWAY_FEE_BPS"] ?? 0);
const LOAD = { backendLatencyMs: 20, tokenIntervalMs: 2 };
const log = (line: string) => process.stdout.write(`${line}\n`);

function load(mesh: Mesh, apiKey: string, total = REQUESTS, concurrency = CONCURRENCY): Promise<Timed[]> {
  return runLoad(total, concurrency, (n) =>
    sendOne({ gatewayUrl: mesh.gateway.url, apiKey, model: MODEL, stream: n % 2 === 0, maxTokens: 16 }, n),
  );
}

/**
 * New nodes take two requests at a time until proven while proven ones have room: a few sequential requests each, so
 * load spreads from the start. Returns the key used.
 */
async function warmUp(mesh: Mesh): Promise<string> {
  const key = await mesh.newKey("warm-up");
  for (let i = 0; i < 8 * mesh.nodes.length; i++)
    await sendOne({ gatewayUrl: mesh.gateway.url, apiKey: key, model: MODEL, stream: false, maxTokens: 4 }, i);
  return key;
}

function okLatencies(results: Timed[]) {
  return summarize(
    results
      .filter((r) => r.status === 200)
      .map((r) => r.elapsedMs)
      .sort((a, b) => a - b),
  );
}

function latencyLine(name: string, results: Timed[], wallMs: number | null): string {
  const ok = results.filter((r) => r.status === 200).length;
  const s = okLatencies(results);
  const rate = wallMs === null ? "" : `  ${(results.length / (wallMs / 1000)).toFixed(0).padStart(5)} req/s`;
  return `${name.padEnd(34)} ${String(ok).padStart(5)}/${results.length} ok  p50 ${s.p50.toFixed(2).padStart(7)} ms  p99 ${s.p99.toFixed(2).padStart(7)} ms${rate}`;
}

async function timedLoad(mesh: Mesh, key: string): Promise<{ results: Timed[]; wallMs: number }> {
  const started = performance.now();
  const results = await load(mesh, key);
  return { results, wallMs: performance.now() - started };
}

/** Kills one agent at a time, round robin, and restarts it a second later, until `done` resolves. */
async function chaos(mesh: Mesh, done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.then(() => (finished = true));
  let kills = 0;
  for (let i = 0; !finished; i = (i + 1) % mesh.nodes.length) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (finished) break;
    await mesh.kill(i);
    kills++;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await mesh.restart(i);
  }
  return kills;
}

async function ledgerRows(mesh: Mesh, apiKey: string, expected: number): Promise<LedgerRow[]> {
  return pollUntil(
    async () => {
      const res = await fetch(`${mesh.gateway.url}/v1/usage?limit=10000`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const report = (await res.json()) as { totals: { requests: number }; data: LedgerRow[] };
      return report.totals.requests >= expected ? report.data : undefined;
    },
    { what: `${expected} rows in the ledger`, timeoutMs: 60_000 },
  );
}

/** Request ids of a key's billable rows (every row: the earlier runs are done). */
async function billableIds(mesh: Mesh, apiKey: string): Promise<string[]> {
  const res = await fetch(`${mesh.gateway.url}/v1/usage?limit=10000`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const report = (await res.json()) as { data: LedgerRow[] };
  return report.data.filter((r) => r.billable).map((r) => r.request_id);
}

/**
 * Closes the last hour (the shortest period a gateway closes; it starts before this run's first request). Being the
 * first close, it also sweeps in every receipt from before it, so its leaves are every billable receipt of the run.
 */
async function closeSettlement(mesh: Mesh): Promise<{ statement: SettlementStatement; leaves: SettledLeaf[] }> {
  const auth = { authorization: `Bearer ${mesh.adminToken}`, "content-type": "application/json" };
  const to = Math.floor(Date.now() / 1000);
  const res = await fetch(`${mesh.gateway.url}/admin/settlements`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ from: to - MIN_SETTLEMENT_PERIOD_MS / 1000, to }),
  });
  if (res.status !== 201) throw new Error(`POST /admin/settlements answered ${res.status}: ${await res.text()}`);
  const statement = (await res.json()) as SettlementStatement;
  const leaves: SettledLeaf[] = [];
  for (const node of statement.nodes) {
    for (let page = 0; ; page++) {
      const answer = await fetch(
        `${mesh.gateway.url}/v1/settlements/${statement.id}/proof?node=${node.node_id}&page=${page}`,
      );
      if (!answer.ok) throw new Error(`GET …/proof?node=${node.node_id}&page=${page} answered ${answer.status}`);
      const proof = (await answer.json()) as SettlementProof;
      for (const leaf of proof.leaves)
        leaves.push({ requestId: decodeReceipt(leaf.receipt)?.receipt.request_id ?? "?", amount: leaf.amount });
      if (!proof.has_more) break;
    }
  }
  // Every leaf read back, so "settled twice" and "settled without a billable row" see all of them.
  if (leaves.length !== statement.receipts)
    throw new Error(`read ${leaves.length} leaves of a statement of ${statement.receipts}`);
  return { statement, leaves };
}

/** Runs `node-agent verify-settlement` for each node against its own receipt log; every one must exit 0. */
async function verifyOnNodes(mesh: Mesh, settlementId: string): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  let ok = true;
  for (const [i, node] of mesh.nodes.entries()) {
    const args = [
      NODE_AGENT_BIN,
      "verify-settlement",
      "--gateway",
      mesh.gateway.url,
      "--key-file",
      node.agent.keyFile,
      "--receipt-log",
      node.receiptLog,
      settlementId,
    ];
    const outcome = await run(process.execPath, args).then(
      (out) => ({ code: 0, text: out.stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, text: err.stdout ?? "" }),
    );
    const summary = outcome.text.trim().split("\n").at(-1) ?? "";
    lines.push(`agent-${i + 1}: verify-settlement exit ${outcome.code}: ${summary}`);
    if (outcome.code !== 0) {
      ok = false;
      lines.push(outcome.text.trim());
    }
  }
  return { lines, ok };
}

async function main(): Promise<number> {
  log(
    `Meshgate load test: ${REQUESTS} requests per run at concurrency ${CONCURRENCY}, ${NODES} nodes, half streamed; fee ${FEE_BPS} bps`,
  );
  const vars = { SETTLEMENT_DELAY_MS: "0" };

  const baselineMesh = await startMesh({
    name: "baseline",
    dir: DIR,
    nodes: NODES,
    vars: { ...vars, BENCH_UNMETERED: "true" },
    ...LOAD,
  });
  const mesh = await startMesh({ name: "metered", dir: DIR, nodes: NODES, vars, ...LOAD }).catch(
    async (err: unknown) => {
      await baselineMesh.stop();
      throw err;
    },
  );
  try {
    await warmUp(baselineMesh);
    const warmUpKey = await warmUp(mesh);
    const [baselineKey, meteredKey] = [await baselineMesh.newKey("baseline"), await mesh.newKey("metered")];
    const sequential = { baseline: [] as Timed[], metered: [] as Timed[] };
    for (let round = 0; round < ROUNDS; round++) {
      sequential.baseline.push(...(await load(baselineMesh, baselineKey, PER_ROUND, 1)));
      sequential.metered.push(...(await load(mesh, meteredKey, PER_ROUND, 1)));
    }
    const baseline = await timedLoad(baselineMesh, baselineKey);
    const metered = await timedLoad(mesh, meteredKey);
    await baselineMesh.stop();
    log("");
    log(`1. latency, one request at a time (${ROUNDS} alternating rounds of ${PER_ROUND} per side, half streamed)`);
    // Whole and streamed answers take very different times: each kind is compared with itself.
    for (const [kind, streamed] of [
      ["whole answers", false],
      ["streams (until [DONE])", true],
    ] as const) {
      const [a, b] = [sequential.baseline, sequential.metered].map((r) =>
        r.filter((_, i) => (i % 2 === 0) === streamed),
      );
      if (!a || !b) continue;
      log(`   ${kind}`);
      log(latencyLine("     without recording", a, null));
      log(latencyLine("     with recording", b, null));
      const [sa, sb] = [okLatencies(a), okLatencies(b)];
      log(
        `     recording adds                p50 ${(sb.p50 - sa.p50).toFixed(2)} ms, p99 ${(sb.p99 - sa.p99).toFixed(2)} ms`,
      );
    }
    log(`2. throughput at concurrency ${CONCURRENCY}`);
    log(latencyLine("   without recording", baseline.results, baseline.wallMs));
    log(latencyLine("   with recording", metered.results, metered.wallMs));

    const chaosKey = await mesh.newKey("chaos");
    const started = performance.now();
    const loadDone = load(mesh, chaosKey);
    const kills = await chaos(mesh, loadDone);
    const received = await loadDone;
    log(
      `3. chaos: ${REQUESTS} requests at concurrency ${CONCURRENCY} while agents were killed ${kills} times (SIGKILL, restarted 0.3 s later)`,
    );
    log(latencyLine("   with recording", received, performance.now() - started));

    const answered = received.filter((r) => r.status === 200).length;
    const rows = await ledgerRows(mesh, chaosKey, answered);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { statement, leaves } = await closeSettlement(mesh);
    const earlier = new Set([...(await billableIds(mesh, warmUpKey)), ...(await billableIds(mesh, meteredKey))]);
    const split = splitSettlement(leaves, earlier);
    const check = checkLedger(
      received,
      rows,
      new Map(mesh.nodes.map((n) => [n.agent.nodeId, n.price])),
      FEE_BPS,
      split.chaos,
    );
    const statuses = new Map<number, number>();
    for (const r of received) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    log("");
    log(
      `responses by status          ${[...statuses].map(([s, n]) => `${s === 0 ? "no response" : s}: ${n}`).join(", ")}`,
    );
    log(
      `answered (200)               ${check.answered}, of which complete with usage ${received.filter((r) => r.status === 200 && r.complete && r.usage).length}`,
    );
    log(
      `ledger rows                  ${check.rows}; missing ${check.missing.length}, duplicated ${check.duplicates.length}, unknown ${check.unexpected.length}`,
    );
    log(
      `tokens                       clients saw ${check.clientTokens}, ledger billed ${check.ledgerTokens}; rows with other counts ${check.tokenMismatches.length}`,
    );
    log(
      `cost (micro-units)           expected ${check.expectedCost}, ledger ${check.ledgerCost}; complete answers left unbilled ${check.unbilled.length}`,
    );
    log(`settlement ${statement.id}  ${statement.receipts} receipts, ${statement.amount} owed`);
    log(
      `   of the chaos run           ${split.chaos.receipts} receipts, ${split.chaos.amount} owed (clients' answers at the nodes' prices: ${check.expectedNodeAmount}); settled twice ${check.settledTwice.length}, settled without a billable row ${check.settledUnbilled.length}`,
    );
    log(
      `   of the runs before it      ${split.earlierSettled} of their ${earlier.size} billable receipts (swept in: no close paid them before); missing ${split.earlierMissing.length}, settled twice ${split.earlierTwice.length}`,
    );
    const verified = await verifyOnNodes(mesh, statement.id);
    for (const line of verified.lines) log(line);
    log("");
    const passed = check.ok && verified.ok && split.earlierMissing.length === 0 && split.earlierTwice.length === 0;
    log(passed ? "ledger check: PASSED" : "ledger check: FAILED");
    log(
      `reproduce: npm run load -- --requests ${REQUESTS} --concurrency ${CONCURRENCY} --nodes ${NODES} --rounds ${ROUNDS}`,
    );
    return passed ? 0 : 1;
  } finally {
    await baselineMesh.stop().catch(() => {});
    await mesh.stop();
  }
}

main().then(
  async (code) => {
    await shutdown();
    process.exit(code);
  },
  async (err: unknown) => {
    process.stderr.write(`load test failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await shutdown();
    process.exit(2);
  },
);
