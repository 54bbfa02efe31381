// The session harness's sizes: its own command's defaults (10,000 nodes, as the issue asks), its --quick smoke test,
// and the sizes `npm run bench` runs it at.
import { AGENT_HANDSHAKE_TIMEOUT_MS, type SessionBenchOptions } from "./result.js";
import { DEFAULT_STORAGE_DIR } from "./session-bench.js";

export const DEFAULTS: SessionBenchOptions = {
  nodes: 10_000,
  holdSeconds: 60,
  quietSeconds: 5,
  concurrency: 64,
  nodesPerGateway: 2_500,
  storageDir: DEFAULT_STORAGE_DIR,
  deflate: false,
  restart: true,
  attemptTimeoutMs: AGENT_HANDSHAKE_TIMEOUT_MS,
};
/** A smoke test: a few hundred nodes, a short hold. */
export const QUICK: Partial<SessionBenchOptions> = { nodes: 500, holdSeconds: 15 };

/** `npm run bench`: big enough for per-session figures, small enough to sit beside the other phases. */
export const BENCH_FULL: Partial<SessionBenchOptions> = { nodes: 2_000, holdSeconds: 30 };
