// Reachability probes: a gateway-signed POST to a node's health path, timed. Signed and addressed like a dispatch, so
// the node answers only the gateway, and only for itself; the answer must name the node the probe was meant for.
import {
  concatBytes,
  DISPATCH_NODE_HEADER,
  HEALTH_PATH,
  HealthAnswerSchema,
  signRequest,
  utf8,
  type Signer,
} from "@meshgate/schemas";
import type { ProbeResult, ProbeTarget } from "../durable/node-registry/types.js";

export type { ProbeResult, ProbeTarget } from "../durable/node-registry/types.js";

/** A node that has not answered in full within this long counts as unreachable. */
export const PROBE_TIMEOUT_MS = 5_000;
/** A health answer is ~120 bytes; the node chooses what it sends, so no more than this is read. */
const MAX_ANSWER_BYTES = 4096;
/**
 * Probes in flight at once. A Worker invocation keeps at most 6 connections open; further fetches wait inside the
 * runtime while their timeouts already run, which would mark healthy nodes unreachable and inflate round trips.
 */
export const PROBE_CONCURRENCY = 6;

export interface ProbeOptions {
  signer: Signer;
  now: () => number;
  /** Default PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The network; tests pass their own. */
  fetcher?: typeof fetch;
}

export interface ProbeRunOptions extends ProbeOptions {
  /** Default PROBE_CONCURRENCY. */
  concurrency?: number;
  /** No probe starts at or after this instant; the targets left are the least recently probed next run. */
  startBy?: number;
}

/** Probes one node. Never rejects for anything the node does: every failure is `reachable: false`. */
export async function probeNode(target: ProbeTarget, opts: ProbeOptions): Promise<ProbeResult> {
  const at = opts.now();
  const unreachable: ProbeResult = { nodeId: target.id, reachable: false, rttMs: null, at };
  let url: string;
  try {
    url = new URL(HEALTH_PATH, new URL(target.url).origin).href;
  } catch {
    return unreachable;
  }
  const body = utf8("{}");
  const headers = new Headers({ "content-type": "application/json", [DISPATCH_NODE_HEADER]: target.id });
  await signRequest({
    method: "POST",
    url,
    headers,
    body,
    signer: opts.signer,
    now: at,
    extraComponents: [DISPATCH_NODE_HEADER],
  });
  // One deadline for the whole exchange, answer body included: a node that trickles its answer is not healthy.
  const signal = AbortSignal.timeout(opts.timeoutMs ?? PROBE_TIMEOUT_MS);
  let response: Response;
  try {
    // No redirects: a node must not be able to point the gateway somewhere else.
    response = await (opts.fetcher ?? fetch)(url, { method: "POST", headers, body, redirect: "manual", signal });
  } catch {
    return unreachable;
  }
  const rttMs = opts.now() - at;
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel().catch(() => {});
    return unreachable;
  }
  const bytes = await readAnswer(response.body, signal);
  if (!bytes) return unreachable;
  let parsed: ReturnType<typeof HealthAnswerSchema.safeParse>;
  try {
    parsed = HealthAnswerSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return unreachable;
  }
  if (!parsed.success || parsed.data.node_id !== target.id) return unreachable;
  return { nodeId: target.id, reachable: true, rttMs, at };
}

/** Reads at most MAX_ANSWER_BYTES before `signal` fires; null when the answer is larger, breaks off or is too slow. */
async function readAnswer(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<Uint8Array | null> {
  const reader = body.getReader();
  // Cancelling the reader ends a pending read, whether or not the runtime ties the fetch's signal to the body.
  const onAbort = (): void => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) return null;
      if (done) break;
      size += value.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } catch {
    return null;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return concatBytes(...chunks);
}

/** Probes the targets, `concurrency` at a time, in order; results in the order probes finished. */
export async function probeNodes(targets: readonly ProbeTarget[], opts: ProbeRunOptions): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < targets.length && (opts.startBy === undefined || opts.now() < opts.startBy)) {
      const target = targets[next++]!;
      results.push(await probeNode(target, opts));
    }
  };
  const lanes = Math.max(1, Math.min(opts.concurrency ?? PROBE_CONCURRENCY, targets.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}
