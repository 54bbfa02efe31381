// Sends one attempt of a client's request to one node, signed with the gateway's key, and says how it went: an answer
// to pass on, or a failure the router learns from (and the next node is tried). Nothing reaches the client from here,
// so abandoning a node is always safe.
//
// Chat and completions are always asked of a node as a stream, so a node that accepts and never answers is caught by
// the first-token deadline whether or not the client streams; for a client that did not, the whole answer is
// assembled here from the stream (see assembled-answer.ts), and the stream's own stall timer (not a deadline on the
// whole answer) decides when a node has stopped, so long honest generations are never cut.
import { CHAT_DIALECT, DISPATCH_NODE_HEADER, RESPONSES_DIALECT, signRequest, type Signer } from "@meshgate/schemas";
import type { OutcomeKind, RouteNode } from "../routing/index.js";
import type { NodeBody } from "../metering/response-meter.js";
import { parseJsonBody } from "../metering/usage.js";
import { assembleAnswer, type AssembleOptions, type AssembledAnswer } from "./assembled-answer.js";
import { collect, collectWhole } from "./answer-collect.js";
import { nodeAbsent, type NodeFetch } from "./node-transport.js";
import { startStream } from "./stream-start.js";

export { MAX_PREAMBLE_BYTES, startStream } from "./stream-start.js";

/**
 * How the node is asked and its answer read: relayed as a stream to a streaming client; a stream assembled into a
 * whole answer for a client that did not stream; a whole answer (embeddings).
 */
export type AttemptMode = "stream" | "assemble" | "whole";

/** Where a node that serves the Responses API itself is sent a Responses request (passed through). */
export const RESPONSES_PATH = "/v1/responses";

/** How the answer at a path is streamed and assembled: the Responses API's events, or chat's or completions' chunks. */
function answerKindOf(path: string): AssembleOptions["kind"] {
  if (path === RESPONSES_PATH) return "responses";
  return path.endsWith("/chat/completions") ? "chat" : "completions";
}

export interface AttemptRequest {
  /** Path on the node, e.g. /v1/chat/completions; chosen per node (a Responses request passes through at /v1/responses). */
  path: string;
  body: Uint8Array;
  requestId: string;
  signer: Signer;
  mode: AttemptMode;
  /** Choices the request asked for (RequestShape.choices). */
  choices: number;
  /** Until the first token of a stream; until the whole answer of a whole one. */
  timeoutMs: number;
  /** A stream that sends no data event for this long has stalled. */
  stallMs: number;
  now: () => number;
  /** Aborts when the client disconnects: the node request is cancelled and no further node is tried. */
  clientGone: AbortSignal;
  /** How the request reaches the node (its URL, or its session). */
  transport: NodeFetch;
}

/** What a node answered, read as far as the attempt reads it. */
export type AnswerContent =
  /** A stream that has started: its first token is in `body.held`. */
  | { form: "stream"; body: NodeBody }
  /** A whole answer, read once and parsed once (`value` is undefined when it is not JSON). */
  | { form: "whole"; bytes: Uint8Array; value: unknown }
  | { form: "assembled"; answer: AssembledAnswer };

export type AttemptResult =
  | { kind: "answer"; response: Response; content: AnswerContent; ttftMs: number; outcome: "success" }
  | {
      kind: "failed";
      outcome: Exclude<OutcomeKind, "success">;
      status: number | null;
      ttftMs: number | null;
      reason: string;
    }
  | { kind: "client_gone" }
  /** The node was not there to ask (its session said so): try another, charging it nothing. */
  | { kind: "absent" }
  /** The whole answer the request asked for is larger than the gateway assembles: the request's doing, no node's. */
  | { kind: "too_large" };

/**
 * A non-streamed answer bigger than this is refused as malformed, counted while it is read (embeddings of 2,048
 * inputs of 1,536 floats fit); two at once stay well inside an isolate's 128 MB.
 */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** 3xx too: redirects are not followed (a node must not steer the gateway elsewhere), so one is a broken answer. */
function failedStatus(status: number): Exclude<OutcomeKind, "success" | "stalled"> | null {
  if (status === 429) return "busy";
  // An inference answer is a 200; any other 1xx/2xx (a 204 has no body at all) is not what was asked for.
  if (status < 300 && status !== 200) return "malformed";
  // Clients never authenticate to nodes, so a 401/403 is the node refusing the gateway: the node's fault.
  if (status >= 500 || status === 401 || status === 403 || (status >= 300 && status < 400)) return "error";
  return null;
}

/**
 * A Responses request passed through to a node that advertised the API for the model and has no route for it (404,
 * 405: a server that serves only chat): the node's broken promise, not the client's error, so the next node is tried.
 */
function missingRoute(path: string, status: number): boolean {
  return path === RESPONSES_PATH && (status === 404 || status === 405);
}

/** A 200 that is not one JSON object, or is an error envelope: not the answer that was asked for. */
function malformedAnswer(value: unknown): boolean {
  return typeof value !== "object" || value === null || Array.isArray(value) || "error" in value;
}

type Failed = Extract<AttemptResult, { kind: "failed" }>;

const failed = (
  outcome: Failed["outcome"],
  status: number | null,
  reason: string,
  ttftMs: number | null = null,
): Failed => ({ kind: "failed", outcome, status, ttftMs, reason });

/** What of a node's error body is read: its message is all that is passed on (nodeErrorBody reads no more). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A node's 4xx: the start of its body, never parsed here (the route takes its message out). */
async function readError(response: Response, ttftMs: () => number): Promise<AttemptResult> {
  const bytes = response.body ? await readPrefix(response.body, MAX_ERROR_BODY_BYTES) : new Uint8Array(0);
  return {
    kind: "answer",
    response,
    content: { form: "whole", bytes, value: undefined },
    ttftMs: ttftMs(),
    outcome: "success",
  };
}

/** Up to `limit` bytes of a body; the rest is cancelled unread. */
async function readPrefix(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const result = await collect(body, {
    onBytes: (b) => {
      parts.push(b);
      size += b.byteLength;
      return size < limit;
    },
    limit: Number.MAX_SAFE_INTEGER,
    stallMs: 5_000,
  });
  if (result.kind === "broken" && size === 0) throw new Error(result.reason);
  const out = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.byteLength, out.byteLength - at);
    out.set(part.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** A whole answer, read once under the attempt's deadline (a 4xx: only its start, see readError). */
async function readWhole(response: Response, req: AttemptRequest, ttftMs: () => number): Promise<AttemptResult> {
  if (response.status !== 200) return readError(response, ttftMs);
  const read = response.body
    ? await collectWhole(response.body, MAX_ANSWER_BYTES, req.timeoutMs)
    : { bytes: new Uint8Array(0) };
  if ("kind" in read) {
    if (read.kind === "broken") throw new Error(read.reason);
    return failed(
      read.kind === "stalled" ? "timeout" : "malformed",
      response.status,
      read.kind === "stalled" ? "the answer stopped" : "the answer is too large",
    );
  }
  const value = parseJsonBody(read.bytes);
  if (malformedAnswer(value)) return failed("malformed", 200, "the answer is not a JSON object");
  return {
    kind: "answer",
    response,
    content: { form: "whole", bytes: read.bytes, value },
    ttftMs: ttftMs(),
    outcome: "success",
  };
}

/**
 * An attempt that broke off before it had an answer: the client left, the node's deadline passed, or the connection
 * broke.
 */
function brokenAttempt(req: AttemptRequest, timedOut: boolean, reason: string): AttemptResult {
  if (req.clientGone.aborted) return { kind: "client_gone" };
  // A timeout is judged once the request ends (timeout-evidence.ts): a client can cause one on purpose (a long
  // prefill). A whole answer's time is the work's, so it is no latency sample.
  if (timedOut) {
    return req.mode === "whole"
      ? failed("timeout", null, `no answer within ${req.timeoutMs} ms`)
      : failed("timeout", null, `no first token within ${req.timeoutMs} ms`, req.timeoutMs);
  }
  return failed("error", null, reason);
}

/** A stream to relay: read up to its first token (`firstToken` stops the first-token clock and says when it came). */
async function streamAttempt(
  response: Response,
  body: ReadableStream<Uint8Array>,
  path: string,
  firstToken: () => number,
): Promise<AttemptResult> {
  const start = await startStream(body, path === RESPONSES_PATH ? RESPONSES_DIALECT : CHAT_DIALECT);
  if (start.kind === "failed") return failed(start.outcome, 200, start.reason);
  return {
    kind: "answer",
    response,
    content: { form: "stream", body: start.body },
    ttftMs: firstToken(),
    outcome: "success",
  };
}

/**
 * A stream to assemble into a whole answer, read from its start by one reader. "broken": it broke off before its first
 * token (the caller judges why, as for a connection that failed).
 */
async function assembledAttempt(
  response: Response,
  body: ReadableStream<Uint8Array>,
  req: AttemptRequest,
  firstToken: () => number,
): Promise<AttemptResult | { kind: "broken"; reason: string }> {
  let ttftMs: number | null = null;
  const assembled = await assembleAnswer(body, {
    kind: answerKindOf(req.path),
    choices: req.choices,
    stallMs: req.stallMs,
    onFirstToken: () => {
      ttftMs = firstToken();
    },
  });
  if (assembled.kind === "too_large") return { kind: "too_large" };
  if (assembled.kind === "answer")
    return {
      kind: "answer",
      response,
      content: { form: "assembled", answer: assembled.answer },
      ttftMs: ttftMs ?? 0,
      outcome: "success",
    };
  // Before its first token a stream fails as startStream fails one; after it, only a client that left ends it quietly.
  if (!assembled.started)
    return assembled.outcome === "error"
      ? { kind: "broken", reason: assembled.reason }
      : failed(assembled.outcome, 200, assembled.reason);
  return req.clientGone.aborted ? { kind: "client_gone" } : failed(assembled.outcome, 200, assembled.reason, ttftMs);
}

function isStream(response: Response): boolean {
  return response.status === 200 && (response.headers.get("content-type") ?? "").includes("text/event-stream");
}

/** An answer its head already refuses (its body is not read): absent, a failing status, no stream when asked for one. */
function refusedHead(
  node: RouteNode,
  req: AttemptRequest,
  response: Response,
  elapsedMs: number,
): AttemptResult | null {
  if (nodeAbsent(node, response)) return { kind: "absent" };
  const failure = missingRoute(req.path, response.status) ? "error" : failedStatus(response.status);
  if (failure) return failed(failure, response.status, `node answered ${response.status}`, elapsedMs);
  // Asked for a stream, a node that answers 200 with anything else is not speaking the protocol.
  if (req.mode !== "whole" && response.status === 200 && (!isStream(response) || !response.body))
    return failed("malformed", 200, "the node did not stream when asked to");
  return null;
}

/** The caller holds one of the node's slots for the attempt (admission.ts), and for an answer until its body ends. */
export async function sendToNode(node: RouteNode, req: AttemptRequest): Promise<AttemptResult> {
  const url = node.origin + req.path;
  const headers = new Headers({
    "content-type": "application/json",
    "x-request-id": req.requestId,
    [DISPATCH_NODE_HEADER]: node.id,
  });
  await signRequest({
    method: "POST",
    url,
    headers,
    body: req.body,
    signer: req.signer,
    now: req.now(),
    extraComponents: [DISPATCH_NODE_HEADER],
  });
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
    const response = await req.transport(
      node,
      new Request(url, { method: "POST", headers, body: req.body, signal: abort.signal, redirect: "manual" }),
    );
    const refused = refusedHead(node, req, response, req.now() - started);
    if (refused) {
      await response.body?.cancel().catch(() => {});
      return refused;
    }
    if (req.mode === "whole" || !isStream(response) || !response.body)
      return await readWhole(response, req, () => req.now() - started);
    // The first token is in: from here on only the stream's stall timer can end it (long answers are not cut).
    const firstToken = (): number => {
      clearTimeout(timer);
      return req.now() - started;
    };
    const result =
      req.mode === "stream"
        ? await streamAttempt(response, response.body, req.path, firstToken)
        : await assembledAttempt(response, response.body, req, firstToken);
    if (result.kind === "broken") return brokenAttempt(req, timedOut, result.reason);
    return result;
  } catch (err) {
    return brokenAttempt(req, timedOut, err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
    req.clientGone.removeEventListener("abort", onClientGone);
  }
}
