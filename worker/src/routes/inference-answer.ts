// The respond step of the inference path: the answer the node gave, sent on in the form the client asked for (a metered
// stream, a whole answer read first, or one assembled from the node's stream), and finished once its body has ended:
// the answer recorded off the response path and the node's slot given back.
import { RECEIPT_HEADER, RESPONSES_DIALECT, type Signer } from "@meshgate/schemas";
import type { RequestBudget } from "../billing/request-budget.js";
import type { AssembledAnswer } from "../mesh/assembled-answer.js";
import { cancelAnswer } from "../mesh/cancel.js";
import { nodeFetch } from "../mesh/node-transport.js";
import { nodeErrorBody } from "../mesh/node-error.js";
import { serverTiming } from "../mesh/server-timing.js";
import { nativeBodyDigest } from "../metering/native-digest.js";
import { OutputTally } from "../metering/output-tally.js";
import { meterStream, type MeterResult, type NodeBody } from "../metering/response-meter.js";
import { usageFrom } from "../metering/usage.js";
import type { Outcome } from "../routing/index.js";
import { passesThrough } from "./inference-call.js";
import type { Routed } from "./inference-dispatch.js";
import { recordAnswer, type AnswerSeen, type Served } from "./inference-record.js";
import { responseIds, responsesBody, responsesStream } from "./responses-answer.js";

/** Response headers from a node that are safe and useful to pass to the client. */
const PASSED_HEADERS = ["content-type", "openai-processing-ms", "openai-version", "cache-control"];

/** A non-streamed answer this short took about as long as its first token would have: a latency sample. */
export const SHORT_ANSWER_TOKENS = 32;

/** What a finished stream says about the node that sent it. */
function streamOutcome(m: MeterResult): Outcome["kind"] {
  if (m.failure === "upstream_stalled") return "stalled";
  if (m.failure === "upstream_error") return "error";
  // An event past the bound (a node that never ends one) is a broken answer.
  if (m.failure === "upstream_malformed") return "malformed";
  if (m.sseError) return "sse_error";
  if (m.malformed) return "malformed";
  // A stream that ends without [DONE] was cut short by the node, even if the connection closed cleanly.
  if (m.failure === null && !m.completed) return "malformed";
  return "success";
}

/**
 * A stream as the gateway saw it. A client that left had the node stopped: then the answer ends cut short (billed
 * from the node's receipt for the part it relayed) and says nothing about the node, unless it had finished anyway.
 * Throughput is measured by the gateway's own count of what was relayed, never by the node's word.
 */
function streamSeen(m: MeterResult, ttftMs: number): AnswerSeen {
  const output = { relayed: m.relayed, afterLeave: m.afterLeave };
  const seen = {
    usage: m.usage,
    output,
    completionEstimate: m.relayed.chunkTokens,
    digest: () => m.digest,
    receipt: m.receipt,
  };
  if (m.clientGone && !m.completed)
    return { ...seen, ending: m.failure === null ? "cut_for_client" : "broken", outcome: null };
  const kind = streamOutcome(m);
  const tokens = kind === "success" ? m.relayed.chunkTokens : null;
  return {
    ...seen,
    ending: m.completed ? "complete" : "broken",
    outcome: { kind, ttftMs, tokens, streamMs: tokens === null ? null : m.durationMs },
  };
}

/**
 * Finishes the answer once, when its body has ended: the answer recorded off the response path, then the node's slot
 * given back with how the node did.
 */
function finishOnce(s: Served): (seen: AnswerSeen) => void {
  let finished = false;
  return (seen) => {
    if (finished) return;
    finished = true;
    s.ctx.waitUntil(
      recordAnswer(s, seen, Date.now()).catch((err: unknown) => console.error("recording usage failed", String(err))),
    );
  };
}

function streamAnswer(
  s: Served,
  routed: Routed,
  body: NodeBody,
  headers: Headers,
  clientGone: AbortSignal,
  signer: Signer,
): Response {
  const finish = finishOnce(s);
  const native = passesThrough(s.call, s.node, s.model);
  const metered = meterStream(body, {
    hideUsage: s.call.hideUsage,
    choices: s.call.shape.choices,
    // A passed-through Responses answer is metered by its own events, as strictly as a chat stream by its chunks.
    ...(native ? { dialect: RESPONSES_DIALECT } : {}),
    // The node stops generating and ends its answer with a receipt for what it relayed, which is read and billed.
    onClientGone: () => s.ctx.waitUntil(cancelAnswer(s.node, s.requestId, signer, Date.now(), nodeFetch(s.env))),
  });
  clientGone.addEventListener("abort", metered.abandon, { once: true });
  s.ctx.waitUntil(metered.result.then((m) => finish(streamSeen(m, routed.answer.ttftMs))));
  const { responses } = s.call;
  if (!responses) return new Response(metered.body, { status: routed.answer.response.status, headers });
  // The gateway writes this stream, so it labels it: the node's content type only had to mention text/event-stream.
  headers.set("content-type", "text/event-stream; charset=utf-8");
  const client = native
    ? metered.body
    : responsesStream(metered.body, responses, responseIds(s.requestId, s.startedAt));
  return new Response(client, { status: routed.answer.response.status, headers });
}

/**
 * A whole answer was read before anything is sent: its usage is known, and one that broke off or was malformed
 * never reached the client (the next node was tried instead). Only a 200 is an answer: a node's 4xx passes on to the
 * client in OpenAI's shape, is not billed, and says nothing about the node. A 200's time is the whole work's:
 * a latency sample only for a short answer (embeddings), where that is close to a first token's.
 */
function wholeAnswer(s: Served, routed: Routed, bytes: Uint8Array, value: unknown, headers: Headers): Response {
  const finish = finishOnce(s);
  const { response, ttftMs } = routed.answer;
  const output = { relayed: new OutputTally(s.call.shape.choices), afterLeave: new OutputTally(0) };
  if (response.status !== 200) {
    finish({
      ending: "broken",
      usage: null,
      output,
      completionEstimate: 0,
      digest: () => "",
      receipt: null,
      outcome: null,
    });
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(nodeErrorBody(response.status, bytes)), { status: response.status, headers });
  }
  output.relayed.add(value);
  const completionEstimate = Math.ceil(output.relayed.textBytes / 4);
  finish({
    ending: "complete",
    usage: usageFrom(value),
    output,
    completionEstimate,
    digest: () => nativeBodyDigest(bytes),
    receipt: response.headers.get(RECEIPT_HEADER),
    outcome: {
      kind: "success",
      ttftMs: completionEstimate <= SHORT_ANSWER_TOKENS ? ttftMs : null,
      tokens: null,
      streamMs: null,
    },
  });
  return new Response(bytes, { status: 200, headers });
}

/**
 * A whole answer assembled from the stream the node was asked for: metered as that stream was (its first token is a
 * latency sample, its pace a throughput one), sent as the one JSON object the client asked for.
 */
function assembledAnswer(s: Served, routed: Routed, a: AssembledAnswer, headers: Headers): Response {
  const finish = finishOnce(s);
  const tokens = a.relayed.chunkTokens;
  finish({
    ending: "complete",
    usage: a.usage,
    output: { relayed: a.relayed, afterLeave: new OutputTally(0) },
    completionEstimate: tokens,
    digest: () => a.digest,
    receipt: a.receipt,
    outcome: { kind: "success", ttftMs: routed.answer.ttftMs, tokens, streamMs: a.durationMs },
  });
  headers.set("content-type", "application/json");
  const { responses } = s.call;
  // A passed-through answer is already the Response the client asked for.
  const body =
    responses && !passesThrough(s.call, s.node, s.model)
      ? responsesBody(a.bytes, responses, responseIds(s.requestId, s.startedAt))
      : a.bytes;
  return new Response(body, { status: 200, headers });
}

export function answerHeaders(routed: Routed, budget: RequestBudget, startedAt: number): Headers {
  const { node, answer, attempts } = routed;
  const headers = new Headers({
    "x-meshgate-node": node.id,
    "x-meshgate-attempts": String(attempts.length),
    ...budget.headers,
  });
  for (const name of PASSED_HEADERS) {
    const value = answer.response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set(
    "server-timing",
    serverTiming({
      startedAt,
      now: Date.now(),
      attempts,
      nodeTtfbMs: answer.ttftMs,
      admitMs: routed.admitMs,
    }),
  );
  return headers;
}

/** Sends the node's answer on in the form the client asked for. */
export function respond(
  s: Served,
  routed: Routed,
  headers: Headers,
  clientGone: AbortSignal,
  signer: Signer,
): Response {
  const content = routed.answer.content;
  if (content.form === "stream") return streamAnswer(s, routed, content.body, headers, clientGone, signer);
  if (content.form === "assembled") return assembledAnswer(s, routed, content.answer, headers);
  return wholeAnswer(s, routed, content.bytes, content.value, headers);
}
