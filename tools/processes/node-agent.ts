// Starts a real node agent (`node-agent start`, the workspace's CLI) as a child process and waits until it listens
// (or, in session mode, until its session with the gateway is open).
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
  /** Default 127.0.0.1:0 (a free port; the agent logs the real one). Ignored in session mode. */
  listen?: string;
  /** `--public-url`: how the gateway reaches the agent, when not at its listening address (e.g. through a proxy). */
  publicUrl?: string;
  /** Session mode: neither --listen nor --public-url, so the agent opens no port and dials the gateway instead. */
  session?: boolean;
  models?: string[];
  capacity?: number;
  /** `--price MODEL=PROMPT:COMPLETION` for each entry (micro-units per million tokens). */
  prices?: Record<string, { prompt: number; completion: number }>;
  /** `--context-length MODEL=TOKENS` for each entry (the model's context, when its upstream does not report it). */
  contextLengths?: Record<string, number>;
  /** Where the agent logs the receipts it signs (the agent's default, next to the key file, when absent). */
  receiptLog?: string;
  /** `--responses-api`: the upstream serves POST /v1/responses itself. */
  responsesApi?: boolean;
  sink?: LineSink;
  /** How long to wait for the agent to listen (or to open its session). */
  timeoutMs?: number;
  /** The `node-agent` script this Node runs (default NODE_AGENT_BIN), e.g. the bin of an installed package. */
  bin?: string;
}

export interface NodeAgent {
  process: ManagedProcess;
  nodeId: string;
  /** Where the agent listens; "" in session mode. */
  url: string;
  keyFile: string;
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const args = [opts.bin ?? NODE_AGENT_BIN, "start", "--gateway", opts.gatewayUrl, "--upstream", opts.upstreamUrl];
  args.push("--key-file", opts.keyFile);
  if (!opts.session) args.push("--listen", opts.listen ?? "127.0.0.1:0");
  if (!opts.session && opts.publicUrl !== undefined) args.push("--public-url", opts.publicUrl);
  if (opts.models) args.push("--models", opts.models.join(","));
  if (opts.capacity !== undefined) args.push("--capacity", String(opts.capacity));
  for (const [model, price] of Object.entries(opts.prices ?? {}))
    args.push("--price", `${model}=${price.prompt}:${price.completion}`);
  for (const [model, tokens] of Object.entries(opts.contextLengths ?? {}))
    args.push("--context-length", `${model}=${tokens}`);
  if (opts.receiptLog !== undefined) args.push("--receipt-log", opts.receiptLog);
  if (opts.responsesApi) args.push("--responses-api");
  const child = spawnProcess({
    name: opts.name,
    command: process.execPath,
    args,
    cwd: REPO_ROOT,
    ...(opts.sink ? { sink: opts.sink } : {}),
  });
  try {
    const { url, nodeId } = await waitUntilServing(child, opts);
    return { process: child, nodeId, url, keyFile: opts.keyFile };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** The agent's node id once it serves, and where it listens ("" in session mode). */
async function waitUntilServing(
  child: ManagedProcess,
  opts: NodeAgentOptions,
): Promise<{ url: string; nodeId: string }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (opts.session) {
    // `<time> node-agent session open node=NODE_ID session=N gateway=URL`
    const m = await child.waitForLine(/ session open .*\bnode=(\S+)/, timeoutMs);
    const nodeId = m[1];
    if (nodeId === undefined) throw new Error(`${opts.name}: unexpected session line: ${m[0]}`);
    return { url: "", nodeId };
  }
  // `<time> node-agent listening url=http://127.0.0.1:PORT public_url=... node=NODE_ID`
  const m = await child.waitForLine(/ listening url=(\S+) .*\bnode=(\S+)/, timeoutMs);
  const [, url, nodeId] = m;
  if (url === undefined || nodeId === undefined) throw new Error(`${opts.name}: unexpected listening line: ${m[0]}`);
  return { url, nodeId };
}
