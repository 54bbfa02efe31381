// `npm run load`: nothing lost, nothing billed twice. Three runs through real agents at concurrency 64:
//   1. baseline: the gateway with metering off (BENCH_UNMETERED, local only), no faults — latency without recording;
//   2. metered: the same load with reservations and recording on — the time recording adds (p50/p99);
//   3. chaos: the same load again while agents are SIGKILLed and restarted; then every response a client received is
//      checked against the ledger (exactly once, to the token and micro-unit), a settlement is closed, no receipt is
//      settled twice or without a billable row, and each agent verifies the settlement against its own receipt log.
// Options: --requests N (default 1200) --concurrency C (64) --nodes K (3). Exit code 1 when a check fails.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { decodeReceipt, type SettlementProof, type SettlementStatement } from "@meshgate/schemas";
import { MESHGATE_DIR, WRANGLER_TOML } from "../gateway/paths.js";
import { readGatewayConfig } from "../gateway/wrangler-config.js";
import { NODE_AGENT_BIN, pollUntil, shutdown } from "../processes/index.js";
import { summarize } from "../bench/stats.js";
import { runLoad, sendOne, type Timed } from "./client.js";
import { checkLedger, type LedgerRow, type Settled } from "./ledger-check.js";
import { MODEL, startMesh, type Mesh } from "./mesh.js";

const run = promisify(execFile);
const { values } = parseArgs({ options: { requests: { type: "string" }, concurrency: { type: "string" }, nodes: { type: "string" } } });
const REQUESTS = Number(values.requests ?? 1200);
const CONCURRENCY = Number(values.concurrency ?? 64);
const NODES = Number(values.nodes ?? 3);
const DIR = join(MESHGATE_DIR, "load");
const FEE_BPS = Number(readGatewayConfig(WRANGLER_TOML).vars["GATEWAY_FEE_BPS"] ?? 0);
const LOAD = { backendLatencyMs: 20, tokenIntervalMs: 2 };
const log = (line: string) => process.stdout.write(`${line}\n`);

function load(mesh: Mesh, apiKey: string): Promise<Timed[]> {
  return runLoad(REQUESTS, CONCURRENCY, (n) => sendOne({ gatewayUrl: mesh.gateway.url, apiKey, model: MODEL, stream: n % 2 === 0, maxTokens: 16 }, n));
}

/** New nodes take two requests at a time until proven: a few sequential requests each, so load spreads from the start. */
async function warmUp(mesh: Mesh): Promise<void> {
  const key = await mesh.newKey("warm-up");
  for (let i = 0; i < 8 * mesh.nodes.length; i++) await sendOne({ gatewayUrl: mesh.gateway.url, apiKey: key, model: MODEL, stream: false, maxTokens: 4 }, i);
}

function latencyLine(name: string, results: Timed[], wallMs: number): string {
  const ok = results.filter((r) => r.status === 200);
  const s = summarize(ok.map((r) => r.elapsedMs).sort((a, b) => a - b));
  return `${name.padEnd(30)} ${String(ok.length).padStart(5)}/${results.length} ok  p50 ${s.p50.toFixed(1).padStart(6)} ms  p99 ${s.p99.toFixed(1).padStart(6)} ms  ${(results.length / (wallMs / 1000)).toFixed(0).padStart(5)} req/s`;
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
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    if (finished) break;
    await mesh.kill(i);
    kills++;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await mesh.restart(i);
  }
  return kills;
}

async function ledgerRows(mesh: Mesh, apiKey: string, expected: number): Promise<LedgerRow[]> {
  return pollUntil(
    async () => {
      const res = await fetch(`${mesh.gateway.url}/v1/usage?limit=10000`, { headers: { authorization: `Bearer ${apiKey}` } });
      const report = (await res.json()) as { totals: { requests: number }; data: LedgerRow[] };
      return report.totals.requests >= expected ? report.data : undefined;
    },
    { what: `${expected} rows in the ledger`, timeoutMs: 60_000 },
  );
}

async function closeSettlement(mesh: Mesh, fromMs: number): Promise<{ statement: SettlementStatement; settled: Settled }> {
  const auth = { authorization: `Bearer ${mesh.adminToken}`, "content-type": "application/json" };
  const res = await fetch(`${mesh.gateway.url}/admin/settlements`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ from: Math.floor(fromMs / 1000), to: Math.floor(Date.now() / 1000) }),
  });
  if (res.status !== 201) throw new Error(`POST /admin/settlements answered ${res.status}: ${await res.text()}`);
  const statement = (await res.json()) as SettlementStatement;
  const requestIds: string[] = [];
  for (const node of statement.nodes) {
    const proof = (await (await fetch(`${mesh.gateway.url}/v1/settlements/${statement.id}/proof?node=${node.node_id}`)).json()) as SettlementProof;
    for (const leaf of proof.leaves) requestIds.push(decodeReceipt(leaf.receipt)?.receipt.request_id ?? "?");
  }
  return { statement, settled: { requestIds, receipts: statement.receipts, amount: statement.amount } };
}

async function verifyOnNodes(mesh: Mesh, settlementId: string): Promise<string[]> {
  const lines: string[] = [];
  for (const [i, node] of mesh.nodes.entries()) {
    const args = [NODE_AGENT_BIN, "verify-settlement", "--gateway", mesh.gateway.url, "--key-file", node.agent.keyFile, "--receipt-log", node.receiptLog, settlementId];
    const outcome = await run(process.execPath, args).then(
      (out) => ({ code: 0, text: out.stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, text: err.stdout ?? "" }),
    );
    const summary = outcome.text.trim().split("\n").at(-1) ?? "";
    lines.push(`agent-${i + 1}: verify-settlement exit ${outcome.code}: ${summary}`);
  }
  return lines;
}

async function main(): Promise<number> {
  log(`Meshgate load test: ${REQUESTS} requests per run at concurrency ${CONCURRENCY}, ${NODES} nodes, half streamed; fee ${FEE_BPS} bps`);
  const vars = { SETTLEMENT_DELAY_MS: "0" };

  const baselineMesh = await startMesh({ name: "baseline", dir: DIR, nodes: NODES, vars: { ...vars, BENCH_UNMETERED: "true" }, ...LOAD });
  await warmUp(baselineMesh);
  const baseline = await timedLoad(baselineMesh, await baselineMesh.newKey("baseline"));
  await baselineMesh.stop();

  const mesh = await startMesh({ name: "metered", dir: DIR, nodes: NODES, vars, ...LOAD });
  try {
    await warmUp(mesh);
    const metered = await timedLoad(mesh, await mesh.newKey("metered"));
    log("");
    log(latencyLine("1. without recording", baseline.results, baseline.wallMs));
    log(latencyLine("2. with recording", metered.results, metered.wallMs));
    const p = (r: Timed[], q: "p50" | "p99") => summarize(r.filter((x) => x.status === 200).map((x) => x.elapsedMs).sort((a, b) => a - b))[q];
    log(`   recording adds              p50 ${(p(metered.results, "p50") - p(baseline.results, "p50")).toFixed(2)} ms, p99 ${(p(metered.results, "p99") - p(baseline.results, "p99")).toFixed(2)} ms (same machine, same load, one run each)`);

    // Receipts of the runs above are older than the chaos run's period.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const chaosStart = Date.now();
    const chaosKey = await mesh.newKey("chaos");
    const started = performance.now();
    const loadDone = load(mesh, chaosKey);
    const kills = await chaos(mesh, loadDone);
    const received = await loadDone;
    log(latencyLine(`3. with ${kills} agent kills`, received, performance.now() - started));

    const answered = received.filter((r) => r.status === 200).length;
    const rows = await ledgerRows(mesh, chaosKey, answered);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const { statement, settled } = await closeSettlement(mesh, chaosStart);
    const check = checkLedger(received, rows, new Map(mesh.nodes.map((n) => [n.agent.nodeId, n.price])), FEE_BPS, settled);
    const statuses = new Map<number, number>();
    for (const r of received) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    log("");
    log(`responses by status          ${[...statuses].map(([s, n]) => `${s === 0 ? "no response" : s}: ${n}`).join(", ")}`);
    log(`answered (200)               ${check.answered}, of which complete with usage ${received.filter((r) => r.status === 200 && r.complete && r.usage).length}`);
    log(`ledger rows                  ${check.rows}; missing ${check.missing.length}, duplicated ${check.duplicates.length}, unknown ${check.unexpected.length}`);
    log(`tokens                       clients saw ${check.clientTokens}, ledger billed ${check.ledgerTokens}; rows with other counts ${check.tokenMismatches.length}`);
    log(`cost (micro-units)           expected ${check.expectedCost}, ledger ${check.ledgerCost}; complete answers left unbilled ${check.unbilled.length}`);
    log(`settlement ${statement.id}  ${statement.receipts} receipts, ${statement.amount} owed (ledger: ${check.ledgerNodeAmount}); settled twice ${check.settledTwice.length}, settled without a billable row ${check.settledUnbilled.length}`);
    for (const line of await verifyOnNodes(mesh, statement.id)) log(line);
    log("");
    log(check.ok ? "ledger check: PASSED" : "ledger check: FAILED");
    log(`reproduce: npm run load -- --requests ${REQUESTS} --concurrency ${CONCURRENCY} --nodes ${NODES}`);
    return check.ok ? 0 : 1;
  } finally {
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
