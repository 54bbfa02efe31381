// Starts a real node agent (`node-agent start`, the workspace's CLI) as a child process and waits until it listens.
// The bin script is run with this Node directly: the same program `npx node-agent` runs, without npx's start-up cost.
import { join } from "node:path";
import { REPO_ROOT } from "../gateway/paths.js";
import { spawnProcess, type ManagedProcess } from "./child.js";
import type { LineSink } from "./lines.js";

export const NODE_AGENT_BIN = join(REPO_ROOT, "node-agent", "bin", "node-agent.js");

export interface NodeAgentOptions {
  /** Log prefix, e.g. "agent-1". */
  name: string;
  gatewayUrl: string;
  upstreamUrl: string;
  keyFile: string;
  /** Default 127.0.0.1:0 (a free port; the agent logs the real one). */
  listen?: string;
  /** `--public-url`: how the gateway reaches the agent, when not at its listening address (e.g. through a proxy). */
  publicUrl?: string;
  models?: string[];
  capacity?: number;
  /** `--price MODEL=PROMPT:COMPLETION` for each entry (micro-units per million tokens). */
  prices?: Record<string, { prompt: number; completion: number }>;
  /** `--context-length MODEL=TOKENS` for each entry (the model's context, when its upstream does not report it). */
  contextLengths?: Record<string, number>;
  /** Where the agent logs the receipts it signs (the agent's default, next to the key file, when absent). */
  receiptLog?: string;
  sink?: LineSink;
  /** How long to wait for the agent to listen. */
  timeoutMs?: number;
  /** The `node-agent` script this Node runs (default NODE_AGENT_BIN), e.g. the bin of an installed package. */
  bin?: string;
}

export interface NodeAgent {
  process: ManagedProcess;
  nodeId: string;
  /** Where the agent listens. */
  url: string;
  keyFile: string;
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const args = [opts.bin ?? NODE_AGENT_BIN, "start", "--gateway", opts.gatewayUrl, "--upstream", opts.upstreamUrl];
  args.push("--listen", opts.listen ?? "127.0.0.1:0", "--key-file", opts.keyFile);
  if (opts.publicUrl !== undefined) args.push("--public-url", opts.publicUrl);
  if (opts.models) args.push("--models", opts.models.join(","));
  if (opts.capacity !== undefined) args.push("--capacity", String(opts.capacity));
  for (const [model, price] of Object.entries(opts.prices ?? {}))
    args.push("--price", `${model}=${price.prompt}:${price.completion}`);
  for (const [model, tokens] of Object.entries(opts.contextLengths ?? {}))
    args.push("--context-length", `${model}=${tokens}`);
  if (opts.receiptLog !== undefined) args.push("--receipt-log", opts.receiptLog);
  const child = spawnProcess({
    name: opts.name,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    ...(opts.sink ? { sink: opts.sink } : {}),
  });
  try {
    // `<time> node-agent listening url=http://127.0.0.1:PORT public_url=... node=NODE_ID`
    const m = await child.waitForLine(/ listening url=(\S+) .*\bnode=(\S+)/, opts.timeoutMs ?? 60_000);
    const [, url, nodeId] = m;
    if (url === undefined || nodeId === undefined) throw new Error(`${opts.name}: unexpected listening line: ${m[0]}`);
    return { process: child, nodeId, url, keyFile: opts.keyFile };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
