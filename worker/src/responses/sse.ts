// The byte streams: a node's Chat Completions SSE in, the Responses SSE out (`event: <type>` and `data: <json>` per
// event, as OpenAI sends it; no `[DONE]`, which the Responses stream does not use). Chunks may split anywhere,
// inside an event or a UTF-8 character.
import { SseDecoder, type ResponsesEvent, type ResponsesRequest } from "@meshgate/schemas";
import { ResponsesEventStream, type StreamError } from "./event-stream.js";
import type { ResponseIds } from "./response-shell.js";

const encoder = new TextEncoder();

/** One event as SSE text. JSON never holds a raw newline, so one data line carries it. */
export function encodeEvent(event: ResponsesEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** What one `data:` payload of the node's stream asks for. */
type Payload = { kind: "done" } | { kind: "chunk"; chunk: unknown } | { kind: "error"; error: StreamError };

function readPayload(data: string): Payload {
  if (data.trim() === "[DONE]") return { kind: "done" };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { kind: "error", error: { message: "the node sent a stream event that is not JSON", code: "server_error" } };
  }
  const error = typeof value === "object" && value !== null ? (value as { error?: unknown }).error : undefined;
  if (error !== undefined && error !== null) {
    const e = (typeof error === "object" ? error : { message: String(error) }) as Record<string, unknown>;
    const message = typeof e["message"] === "string" ? e["message"] : "the node reported an error";
    const code = typeof e["code"] === "string" || typeof e["code"] === "number" ? e["code"] : null;
    return { kind: "error", error: { message, type: typeof e["type"] === "string" ? e["type"] : null, code } };
  }
  return { kind: "chunk", chunk: value };
}

/** The translation, fed decoded text; owns the SSE and UTF-8 decoding state. */
class ChatToResponses {
  private readonly text = new TextDecoder();
  private readonly sse = new SseDecoder();
  private readonly events: ResponsesEventStream;

  constructor(req: ResponsesRequest, ids: ResponseIds) {
    this.events = new ResponsesEventStream(req, ids);
  }

  start(): ResponsesEvent[] {
    return this.events.start();
  }

  /** The node sent more than a Responses stream holds: the response has failed, and the node's stream is not wanted. */
  get overflowed(): boolean {
    return this.events.overflowed;
  }

  push(bytes: Uint8Array): ResponsesEvent[] {
    return this.read(this.sse.push(this.text.decode(bytes, { stream: true })));
  }

  /** The node's stream closed: what is left is read, and the response ends (failed if the answer was cut short). */
  flush(): ResponsesEvent[] {
    const rest = this.read([...this.sse.push(this.text.decode()), ...this.sse.flush()]);
    return [...rest, ...this.events.end()];
  }

  private read(sseEvents: readonly { data: string | null }[]): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    for (const { data } of sseEvents) {
      // Comments and keep-alives carry no data: nothing to translate.
      if (data === null || this.events.done) continue;
      const payload = readPayload(data);
      if (payload.kind === "done") out.push(...this.events.end());
      else if (payload.kind === "error") out.push(...this.events.fail(payload.error));
      else out.push(...this.events.push(payload.chunk));
    }
    if (this.sse.overflowed && !this.events.done) {
      out.push(...this.events.fail({ message: "the node sent a stream event too long to read", code: "server_error" }));
    }
    return out;
  }
}

/**
 * A TransformStream from a node's Chat Completions SSE bytes to the Responses SSE bytes. `response.created` goes out
 * at once, before the node's first byte; the response always ends, whatever the node's stream did.
 */
export function chatToResponsesStream(
  req: ResponsesRequest,
  ids: ResponseIds,
): TransformStream<Uint8Array, Uint8Array> {
  const translation = new ChatToResponses(req, ids);
  const send = (controller: TransformStreamDefaultController<Uint8Array>, events: readonly ResponsesEvent[]): void => {
    if (events.length > 0) controller.enqueue(encoder.encode(events.map(encodeEvent).join("")));
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start: (controller) => send(controller, translation.start()),
    transform: (bytes, controller) => {
      send(controller, translation.push(bytes));
      // Ends the client's stream now and cancels the node's, which stops the node as a client that left would.
      if (translation.overflowed) controller.terminate();
    },
    flush: (controller) => send(controller, translation.flush()),
  });
}
