// Serves bare-worker.ts with tools/gateway's startGateway, i.e. the same esbuild bundling, Miniflare options and
// workerd binary as the Meshgate gateway, so the two differ only in the Worker's code. Its wrangler-style config is
// generated from the real wrangler.toml so the compatibility date and flags (which change runtime behaviour) match.
import { fileURLToPath } from "node:url";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import type { LineSink } from "../processes/index.js";
import { writeBenchWorkerConfig, type BenchWorker } from "./bench-worker-config.js";

const BARE_WORKER = fileURLToPath(new URL("./bare-worker.ts", import.meta.url));

export function startBareWorker(backendUrl: string, sink: LineSink): Promise<Gateway> {
  return startPassThrough(
    { name: "meshgate-bench-bare", main: BARE_WORKER, purpose: "the pass-through baseline Worker" },
    backendUrl,
    sink,
  );
}

/** Any pass-through Worker reading BACKEND_URL (the bare one, or a relay variant of tools/bench/relay-floor). */
export function startPassThrough(
  worker: BenchWorker,
  backendUrl: string,
  sink: LineSink,
  vars: Record<string, string> = {},
): Promise<Gateway> {
  return startGateway({ configPath: writeBenchWorkerConfig(worker), vars: { ...vars, BACKEND_URL: backendUrl }, sink });
}
