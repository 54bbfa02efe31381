// Serves bare-worker.ts with tools/gateway's startGateway, i.e. the same esbuild bundling, Miniflare options and
// workerd binary as the Meshgate gateway, so the two differ only in the Worker's code. Its wrangler-style config is
// generated from the real wrangler.toml so the compatibility date and flags (which change runtime behaviour) match.
import { fileURLToPath } from "node:url";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import type { LineSink } from "../processes/index.js";
import { writeBenchWorkerConfig } from "./bench-worker-config.js";

const BARE_WORKER = fileURLToPath(new URL("./bare-worker.ts", import.meta.url));

export function startBareWorker(backendUrl: string, sink: LineSink): Promise<Gateway> {
  const configPath = writeBenchWorkerConfig({ name: "meshgate-bench-bare", main: BARE_WORKER, purpose: "the pass-through baseline Worker" });
  return startGateway({ configPath, vars: { BACKEND_URL: backendUrl }, sink });
}
