// Sends a client's request to nodes in ranked order, signed with the gateway's key, until one answers.
import { DISPATCH_NODE_HEADER, signRequest, type Signer } from "@meshgate/schemas";
import type { RoutableNode } from "../routing/select.js";

/**
 * How long a node may take to start answering (its headers) before the next node is tried. Generous, because a
 * non-streamed answer only starts once it is complete; streamed first-token timeouts are the router's next step.
 */
export const FIRST_BYTE_TIMEOUT_MS = 120_000;

export interface DispatchRequest {
  /** Path on the node, e.g. /v1/chat/completions. */
  path: string;
  body: Uint8Array;
  requestId: string;
  signer: Signer;
  now: () => number;
  /** Aborts when the client disconnects: the node request is cancelled and no further node is tried. */
  clientGone: AbortSignal;
}

export interface Attempt {
  node: RoutableNode;
  /** null when the node could not be reached or timed out. */
  status: number | null;
  ttfbMs: number | null;
  error: string | null;
}

export type DispatchResult =
  | { ok: true; node: RoutableNode; response: Response; ttfbMs: number; attempts: Attempt[] }
  | { ok: false; attempts: Attempt[]; clientGone?: true };

const localInFlight = new Map<string, number>();

/** Requests this isolate has open to each node; routing adds them to the node's last reported load. */
export function inFlightCounts(): ReadonlyMap<string, number> {
  return localInFlight;
}

function adjustInFlight(nodeId: string, delta: number): void {
  const next = (localInFlight.get(nodeId) ?? 0) + delta;
  if (next <= 0) localInFlight.delete(nodeId);
  else localInFlight.set(nodeId, next);
}

/** Marks a dispatch as finished; call once the response body is done. */
export function releaseNode(nodeId: string): void {
  adjustInFlight(nodeId, -1);
}

/**
 * Statuses that mean "this node, not this request": server errors, overload, and a node refusing the gateway's own
 * signature (401/403: a dispatch addressed to another node, say). Clients never authenticate to nodes, so those are
 * never the client's fault.
 */
function retriable(status: number): boolean {
  // 3xx too: redirects are not followed (a node must not steer the gateway elsewhere), so one is a broken answer.
  return status >= 500 || status === 429 || status === 401 || status === 403 || (status >= 300 && status < 400);
}

async function sendOnce(node: RoutableNode, req: DispatchRequest): Promise<Response> {
  const url = node.origin + req.path;
  const headers = new Headers({ "content-type": "application/json", "x-request-id": req.requestId, [DISPATCH_NODE_HEADER]: node.id });
  await signRequest({ method: "POST", url, headers, body: req.body, signer: req.signer, now: req.now(), extraComponents: [DISPATCH_NODE_HEADER] });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("first byte timeout")), FIRST_BYTE_TIMEOUT_MS);
  const onClientGone = () => abort.abort(new Error("client disconnected"));
  req.clientGone.addEventListener("abort", onClientGone, { once: true });
  try {
    return await fetch(url, { method: "POST", headers, body: req.body, signal: abort.signal, redirect: "manual" });
  } finally {
    clearTimeout(timer);
    req.clientGone.removeEventListener("abort", onClientGone);
  }
}

/**
 * Tries `nodes` in order. A node that cannot be reached, times out, or answers as `retriable` says is skipped for the next one;
 * any other answer is returned as is (a 4xx is the client's problem, not the node's). Nothing has reached the
 * client yet, so switching is safe.
 */
export async function dispatch(nodes: readonly RoutableNode[], req: DispatchRequest): Promise<DispatchResult> {
  const attempts: Attempt[] = [];
  for (const node of nodes) {
    const started = req.now();
    adjustInFlight(node.id, 1);
    let response: Response;
    try {
      response = await sendOnce(node, req);
    } catch (err) {
      releaseNode(node.id);
      if (req.clientGone.aborted) return { ok: false, attempts, clientGone: true };
      attempts.push({ node, status: null, ttfbMs: null, error: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const ttfbMs = req.now() - started;
    if (retriable(response.status)) {
      releaseNode(node.id);
      await response.body?.cancel().catch(() => {});
      attempts.push({ node, status: response.status, ttfbMs, error: `node answered ${response.status}` });
      continue;
    }
    attempts.push({ node, status: response.status, ttfbMs, error: null });
    return { ok: true, node, response, ttfbMs, attempts };
  }
  return { ok: false, attempts };
}
