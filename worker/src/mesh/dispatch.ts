// Sends one attempt of a client's request to one node, signed with the gateway's key, and says how it went: an answer
// to pass on, or a failure the router learns from (and the next node is tried). Nothing reaches the client from here,
// so abandoning a node is always safe.
import { DISPATCH_NODE_HEADER, signRequest, SseDecoder, type Signer } from "@meshgate/schemas";
import type { OutcomeKind, RouteNode } from "../routing/index.js";
import { HttpError } from "../http/http-error.js";
import { readChunks } from "../http/json-body.js";
import { isErrorEnvelope } from "../metering/response-meter.js";
import { adjustLoad } from "./local-load.js";

export interface AttemptRequest {
  /** Path on the node, e.g. /v1/chat/completions. */
  path: string;
  body: Uint8Array;
  requestId: string;
  signer: Signer;
  streamed: boolean;
  /** For a stream: until its first bytes; otherwise until the whole answer is in. */
  timeoutMs: number;
  now: () => number;
  /** Aborts when the client disconnects: the node request is cancelled and no further node is tried. */
  clientGone: AbortSignal;
}

export type AttemptResult =
  /** A stream that has started (its first bytes are already in `response.body`), or a whole answer read into `body`. */
  | { kind: "answer"; response: Response; body: ArrayBuffer | null; ttftMs: number; outcome: "success" }
  | { kind: "failed"; outcome: Exclude<OutcomeKind, "success" | "stalled">; status: number | null; ttftMs: number | null; reason: string }
  | { kind: "client_gone" };

/**
 * A non-streamed answer bigger than this is refused as malformed, counted while it is read (embeddings of 2,048
 * inputs of 1,536 floats fit); two at once stay well inside an isolate's 128 MB.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Marks an answered attempt as finished; call once its body is done. Failed attempts release themselves. */
export function releaseNode(nodeId: string): void {
  adjustLoad(nodeId, -1);
}

/** 3xx too: redirects are not followed (a node must not steer the gateway elsewhere), so one is a broken answer. */
function failedStatus(status: number): Exclude<OutcomeKind, "success" | "stalled"> | null {
  if (status === 429) return "busy";
  // An inference answer is a 200; any other 1xx/2xx (a 204 has no body at all) is not what was asked for.
  if (status < 300 && status !== 200) return "malformed";
  // Clients never authenticate to nodes, so a 401/403 is the node refusing the gateway: the node's fault.
  if (status >= 500 || status === 401 || status === 403 || (status >= 300 && status < 400)) return "error";
  return null;
}

/** A 200 that is not one JSON object, or is an error envelope: not the answer that was asked for. */
function malformedAnswer(body: ArrayBuffer): boolean {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return typeof value !== "object" || value === null || Array.isArray(value) || "error" in value;
  } catch {
    return true;
  }
}

/** Bytes held before the first event: a node that sends only comments must not fill the isolate. */
export const MAX_PREAMBLE_BYTES = 64 * 1024;

export type StreamStart =
  | { kind: "started"; body: ReadableStream<Uint8Array> }
  | { kind: "failed"; outcome: "malformed" | "sse_error"; reason: string };

/**
 * Reads up to the first `data:` event (comments and keep-alives before it are not a first token, so they neither stop
 * the first-token timeout nor count as the node's speed), then hands back a body that replays what was read, followed
 * by the rest. A first event that is an error envelope is a failed attempt: nothing has reached the client yet.
 */
export async function startStream(body: ReadableStream<Uint8Array>): Promise<StreamStart> {
  const reader = body.getReader();
  const held: Uint8Array[] = [];
  const decoder = new TextDecoder();
  const sse = new SseDecoder();
  let size = 0;
  const fail = (outcome: "malformed" | "sse_error", reason: string): StreamStart => {
    reader.cancel(reason).catch(() => {});
    return { kind: "failed", outcome, reason };
  };
  for (;;) {
    const step = await reader.read();
    if (step.done) return fail("malformed", "the stream ended before its first event");
    held.push(step.value);
    size += step.value.byteLength;
    const first = sse.push(decoder.decode(step.value, { stream: true })).find((event) => event.data !== null);
    if (first?.data != null) {
      if (isErrorEnvelope(first.data)) return fail("sse_error", "the stream's first event is an error");
      break;
    }
    if (size > MAX_PREAMBLE_BYTES) return fail("malformed", `no event in the stream's first ${MAX_PREAMBLE_BYTES} bytes`);
  }
  let replayed = 0;
  return {
    kind: "started",
    body: new ReadableStream<Uint8Array>({
      async pull(controller) {
        const heldChunk = held[replayed];
        if (heldChunk) {
          replayed++;
          return controller.enqueue(heldChunk);
        }
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    }),
  };
}

export async function sendToNode(node: RouteNode, req: AttemptRequest): Promise<AttemptResult> {
  const url = node.origin + req.path;
  const headers = new Headers({ "content-type": "application/json", "x-request-id": req.requestId, [DISPATCH_NODE_HEADER]: node.id });
  // The slot is taken before anything awaits, so concurrent requests that pick meanwhile see it taken.
  adjustLoad(node.id, 1);
  let answered = false;
  try {
    await signRequest({ method: "POST", url, headers, body: req.body, signer: req.signer, now: req.now(), extraComponents: [DISPATCH_NODE_HEADER] });
  } catch (err) {
    adjustLoad(node.id, -1);
    throw err;
  }
  const started = req.now();
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error("timeout"));
  }, req.timeoutMs);
  const onClientGone = () => abort.abort(new Error("client disconnected"));
  req.clientGone.addEventListener("abort", onClientGone, { once: true });
  try {
    const response = await fetch(url, { method: "POST", headers, body: req.body, signal: abort.signal, redirect: "manual" });
    const failed = failedStatus(response.status);
    if (failed) {
      await response.body?.cancel().catch(() => {});
      return { kind: "failed", outcome: failed, status: response.status, ttftMs: req.now() - started, reason: `node answered ${response.status}` };
    }
    const isStream = req.streamed && response.status === 200 && (response.headers.get("content-type") ?? "").includes("text/event-stream");
    if (isStream && response.body) {
      const start = await startStream(response.body);
      if (start.kind === "failed") return { kind: "failed", outcome: start.outcome, status: 200, ttftMs: null, reason: start.reason };
      answered = true;
      return { kind: "answer", response: new Response(start.body, response), body: null, ttftMs: req.now() - started, outcome: "success" };
    }
    let body: ArrayBuffer;
    try {
      const bytes = response.body ? await readChunks(response.body, MAX_ANSWER_BYTES) : new Uint8Array(0);
      body = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      return { kind: "failed", outcome: "malformed", status: response.status, ttftMs: null, reason: "the answer is too large" };
    }
    if (response.status === 200 && malformedAnswer(body)) {
      return { kind: "failed", outcome: "malformed", status: response.status, ttftMs: null, reason: "the answer is not a JSON object" };
    }
    answered = true;
    return { kind: "answer", response, body, ttftMs: req.now() - started, outcome: "success" };
  } catch (err) {
    if (req.clientGone.aborted) return { kind: "client_gone" };
    // Either is a timeout, judged once the request ends (timeout-evidence.ts): a client can cause one on purpose (a
    // long prefill, a long generation). A whole answer's time is the generation's, so it is no latency sample.
    if (timedOut) {
      return req.streamed
        ? { kind: "failed", outcome: "timeout", status: null, ttftMs: req.timeoutMs, reason: `no first token within ${req.timeoutMs} ms` }
        : { kind: "failed", outcome: "timeout", status: null, ttftMs: null, reason: `no answer within ${req.timeoutMs} ms` };
    }
    return { kind: "failed", outcome: "error", status: null, ttftMs: null, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
    req.clientGone.removeEventListener("abort", onClientGone);
    if (!answered) adjustLoad(node.id, -1);
  }
}
