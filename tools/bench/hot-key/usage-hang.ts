// Reproduces a hang found by the hot-key bench (tools/bench/README.md, "Hot key over 4 isolates"), on the unmodified
// Worker: 2 s of load at c=8 on a limited key and on a key without limits, 8 GET /v1/usage, 2 s idle, then 8 GET
// /v1/models. With /v1/usage the isolates' authenticated requests hang (each probe times out after 5 s); with
// `--probe /v1/models` in its place they answer.
//   node --import tsx tools/bench/hot-key/usage-hang.ts [--probe /v1/models]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { installShutdownHandlers, shutdown } from "../../processes/index.js";
import { BENCH_DIR, spawnBackend } from "../stack.js";
import { startGateway } from "../../gateway/gateway.js";
import { generateDevVars } from "../../gateway/dev-vars.js";
import { createApiKey } from "../../gateway/admin.js";
import { waitForNode } from "../../gateway/nodes.js";
import { startNodeAgent } from "../../processes/index.js";
import { closedLoop } from "./closed-loop.js";
import { BODY } from "./request.js";
const probePath = parseArgs({ options: { probe: { type: "string" } } }).values.probe ?? "/v1/usage";
const t0 = Date.now();
const log = (line: string) => void process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(2)} s  ${line}\n`);
installShutdownHandlers();
const backend = spawnBackend({ tokenIntervalMs: 0, backendLatencyMs: 0 }, () => {});
const backendUrl = (await backend.waitForLine(/listening on (http:\/\/\S+)/))[1] ?? "";
const vars = generateDevVars();
const gw = await startGateway({ vars, isolates: 4, sink: () => {} });
const agent = await startNodeAgent({
  name: "a",
  gatewayUrl: gw.url,
  upstreamUrl: backendUrl,
  keyFile: join(BENCH_DIR, "usage-hang-node-key.json"),
  capacity: 1000,
  sink: () => {},
});
await waitForNode(gw.url, agent.nodeId);
const get = async (path: string, key: string) => {
  const res = await fetch(`${gw.url}${path}`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(5000),
  }).catch((err: unknown) => String(err));
  return typeof res === "string" ? res.slice(0, 30) : `${res.status} isolate ${res.headers.get("x-meshgate-isolate")}`;
};
try {
  const lim = await createApiKey(gw.url, vars.ADMIN_TOKEN, "lim", { budget: 1e13, rpm: 1e7, tpm: 1e9 });
  const free = await createApiKey(gw.url, vars.ADMIN_TOKEN, "free");
  await closedLoop({ url: gw.url, key: lim.key, body: BODY, concurrency: 8, durationMs: 2000 });
  await closedLoop({ url: gw.url, key: free.key, body: BODY, concurrency: 8, durationMs: 2000 });
  for (let i = 0; i < 8; i++) log(`${probePath} ${await get(probePath, free.key)}`);
  await new Promise((r) => setTimeout(r, 2000));
  for (let i = 0; i < 8; i++) log(`/v1/models ${await get("/v1/models", free.key)}`);
} finally {
  await shutdown();
}
process.exit();
