// The start of a node's event stream: read until its first token, which stops the first-token clock. Comments,
// keep-alives and chunks without output (a role, an empty string) are not a first token: a node cannot fake speed
// with empty events, and one that sends only those is cut off by the first-token deadline or the preamble bound.
import { CHAT_DIALECT, MAX_SSE_EVENT_LENGTH, SseDecoder, type StreamDialect } from "@meshgate/schemas";
import type { NodeBody } from "../metering/response-meter.js";
import { Utf8Chunks } from "../metering/utf8-chunks.js";
import { parsePayload } from "../metering/stream-meter.js";

/**
 * Bytes held before the first token: a node that sends only comments or empty events must not fill the isolate. As
 * much as one event may hold: a first event can be large for the request's own reasons (an echoed prompt).
 */
export const MAX_PREAMBLE_BYTES = MAX_SSE_EVENT_LENGTH;

export type StreamStart =
  | { kind: "started"; body: NodeBody }
  | { kind: "failed"; outcome: "malformed" | "sse_error"; reason: string };

export type FirstEvent = "token" | "error" | "malformed" | "nothing";

/**
 * Whether a data payload is a first token: it carries output (text, a tool call, log probabilities), or is [DONE]
 * (an empty answer is over, not slow). A finish reason or usage before any output is not: a node could send either at
 * once and the real answer later. A payload that is not a JSON object is no stream a client can read.
 */
export function firstTokenOf(data: string, dialect: StreamDialect = CHAT_DIALECT, name?: string): FirstEvent {
  return dialect.isMarker(data) ? "token" : firstTokenOfPayload(parsePayload(data), dialect, name);
}

/**
 * firstTokenOf a payload other than [DONE], already parsed (undefined: not JSON). A Responses stream's last event is
 * its end, as [DONE] is; an event that names no type (a chat chunk sent instead), or is named as another event
 * (`name`: its `event:` field), is no Responses event a client reads.
 */
export function firstTokenOfPayload(value: unknown, dialect: StreamDialect = CHAT_DIALECT, name?: string): FirstEvent {
  if (!dialect.isWellFormed(value) || !dialect.isReadAs(name, value)) return "malformed";
  if (dialect.isError(value)) return "error";
  if (dialect.isLast(value)) return "token";
  for (const output of dialect.outputs(value)) {
    if (output.textBytes > 0 || output.toolCallIndexes.length > 0 || output.logprobTokens > 0) return "token";
  }
  return "nothing";
}

/**
 * Reads up to the first token, then hands back what was read and the reader for the rest. A first event that is an
 * error envelope is a failed attempt: nothing has reached the client yet.
 */
export async function startStream(
  body: ReadableStream<Uint8Array>,
  dialect: StreamDialect = CHAT_DIALECT,
): Promise<StreamStart> {
  const reader = body.getReader();
  const held: Uint8Array[] = [];
  const text = new Utf8Chunks();
  const sse = new SseDecoder(MAX_PREAMBLE_BYTES);
  let size = 0;
  const fail = (outcome: "malformed" | "sse_error", reason: string): StreamStart => {
    reader.cancel(reason).catch(() => {});
    return { kind: "failed", outcome, reason };
  };
  for (;;) {
    const step = await reader.read();
    if (step.done) return fail("malformed", "the stream ended before its first token");
    held.push(step.value);
    size += step.value.byteLength;
    for (const event of sse.push(text.decode(step.value))) {
      if (event.data === null) continue;
      const first = firstTokenOf(event.data, dialect, event.event);
      if (first === "error") return fail("sse_error", "the stream's first event is an error");
      if (first === "malformed") return fail("malformed", "a payload before the first token is not a JSON object");
      if (first === "token") return { kind: "started", body: { held, reader } };
    }
    if (size > MAX_PREAMBLE_BYTES)
      return fail("malformed", `no token in the stream's first ${MAX_PREAMBLE_BYTES} bytes`);
  }
}
