// Passes a node's event stream through to the client chunk by chunk while reading out of it what it is billed by:
// the node's usage and receipt, and what the stream relayed (its output, the digest of its data payloads).
import { RESPONSES_DIALECT, type StreamDialect } from "@meshgate/schemas";
import type { OutputTally } from "./output-tally.js";
import { StreamMeter } from "./stream-meter.js";
import type { TokenCounts } from "./usage.js";

export interface MeterOptions {
  /** Remove usage the gateway asked the node for but the client did not. */
  hideUsage: boolean;
  /** Choices the request asked for (RequestShape.choices): output for any other is not tallied. */
  choices: number;
  /** A client that takes longer than this to accept one chunk is treated as gone. */
  stallMs?: number;
  /** A node that sends nothing for this long mid-stream has stalled: the stream is ended with an error event. */
  upstreamStallMs?: number;
  /** How long the rest of a node's answer is read after its client left (DRAIN_AFTER_CLIENT_LEFT_MS). */
  drainMs?: number;
  /** Called once if the client leaves before the end: the node should stop (and send a receipt for what it relayed). */
  onClientGone?: () => void;
  /** Each parsed data payload before [DONE] (see StreamMeterOptions). */
  onPayload?: (value: unknown, name: string | undefined) => void;
  /** How the node's stream is read: chat chunks (the default) or Responses events (a passed-through request). */
  dialect?: StreamDialect;
}

/** Generation pauses (a long tool call, a slow prefill of a later turn) rarely last this long without a keep-alive. */
export const UPSTREAM_STALL_MS = 30_000;

/**
 * Cloudflare cancels a response body when its client disconnects; local workerd behind Miniflare does not always,
 * and then a write just never completes. A client that accepts nothing for this long is treated as gone, so the
 * node's slot is released and the request is still recorded.
 */
export const CLIENT_STALL_MS = 10_000;

/**
 * A client that leaves stops the node (onClientGone), and the rest of what the node sends is still read (not
 * relayed): its receipt for the part it relayed, or, if it had already finished, the usage and receipt of the whole
 * answer. Leaving just before the usage chunk therefore makes no answer free. A node that has not ended its answer
 * this long after the client left is cut off, and the answer goes unbilled.
 */
export const DRAIN_AFTER_CLIENT_LEFT_MS = 10_000;
const DRAIN_YIELD_EVERY = 64;

export interface MeterResult {
  usage: TokenCounts | null;
  /** The stream ended normally: `[DONE]` was its last data event. */
  completed: boolean;
  /**
   * Why the body did not complete, if it did not ("client_cancelled": the client left and the node did not finish in
   * time).
   */
  failure: "upstream_error" | "upstream_stalled" | "upstream_malformed" | "client_cancelled" | null;
  /** The client left before the end (the rest of the node's answer was read without it). */
  clientGone: boolean;
  /** The node sent an error envelope (`data: {"error": …}`) inside its 200 stream. */
  sseError: boolean;
  /** A data payload was neither [DONE] nor a JSON object. */
  malformed: boolean;
  bytes: number;
  /** From the start of metering (the first token is already in) to the end of the stream, ms. */
  durationMs: number;
  /** StreamDigest of the data payloads as the node sent them (before any usage was hidden): what its receipt names. */
  digest: Promise<string>;
  /** The node's receipt (wire form), taken out of the stream: its last event; null when it sent none there. */
  receipt: string | null;
  /** What the stream's data events carried to the client. */
  relayed: OutputTally;
  /** What they carried after the client left (read, never relayed). */
  afterLeave: OutputTally;
}

const encoder = new TextEncoder();

export const MID_STREAM_ERROR_EVENT = `data: ${JSON.stringify({
  error: {
    message: "The node serving this request failed mid-stream.",
    type: "api_error",
    param: null,
    code: "upstream_stream_error",
  },
})}\n\n`;

/** The same failure as OpenAI's Responses stream reports one: an `error` event (both SDKs raise it). */
export const MID_STREAM_RESPONSES_ERROR_EVENT = `event: error\ndata: ${JSON.stringify({
  type: "error",
  code: "upstream_stream_error",
  message: "The node serving this request failed mid-stream.",
  param: null,
})}\n\n`;

/**
 * A node's body as the dispatch step hands it on: the chunks it already read (up to the first token) and a reader
 * for the rest. No JavaScript stream sits between the node and the meter: each chunk is read once.
 */
export interface NodeBody {
  held: Uint8Array[];
  reader: ReadableStreamDefaultReader<Uint8Array>;
}

export function nodeBody(stream: ReadableStream<Uint8Array>): NodeBody {
  return { held: [], reader: stream.getReader() };
}

export interface MeteredBody {
  body: ReadableStream<Uint8Array>;
  /** Settles exactly once: when the body ends, breaks, or is abandoned. */
  result: Promise<MeterResult>;
  /**
   * The client went away: stop sending to it, read the rest of the node's answer. The runtime does not always cancel
   * the body.
   */
  abandon(): void;
}

type Failure = MeterResult["failure"];

/**
 * Relays a node's stream to the client through a native identity stream (each write completes when the client side
 * has taken the chunk: nothing is buffered, and a client that has gone makes the write fail or stall), metering it on
 * the way. One watchdog timer per stream, not one per chunk, notices a stalled node and a stalled client.
 */
class StreamRelay {
  readonly meter: StreamMeter;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly readable: ReadableStream<Uint8Array>;
  readonly result: Promise<MeterResult>;
  private resolveResult: ((r: MeterResult) => void) | null = null;
  private bytes = 0;
  private readonly startedAt = Date.now();
  private clientGone = false;
  private stalled = false;
  private lastProgressAt = Date.now();
  private progressSeen = 0;
  private writeStartedAt = 0;
  private drained = 0;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;
  /** Resolves when the client leaves: a write to a client that left may never complete (see CLIENT_STALL_MS). */
  private readonly left: Promise<void>;
  private wakeWriter = () => {};

  constructor(
    private readonly source: NodeBody,
    private readonly opts: MeterOptions,
  ) {
    this.meter = new StreamMeter({
      hideUsage: opts.hideUsage,
      choices: opts.choices,
      ...(opts.onPayload ? { onPayload: opts.onPayload } : {}),
      ...(opts.dialect ? { dialect: opts.dialect } : {}),
    });
    this.result = new Promise<MeterResult>((resolve) => (this.resolveResult = resolve));
    this.left = new Promise<void>((resolve) => (this.wakeWriter = resolve));
    const { readable, writable } = new IdentityTransformStream();
    this.readable = readable;
    this.writer = writable.getWriter();
    const stallMs = opts.stallMs ?? CLIENT_STALL_MS;
    const upstreamStallMs = opts.upstreamStallMs ?? UPSTREAM_STALL_MS;
    this.watchdog = setInterval(
      () => this.watch(stallMs, upstreamStallMs),
      Math.max(10, Math.floor(Math.min(stallMs, upstreamStallMs) / 4)),
    );
  }

  private watch(stallMs: number, upstreamStallMs: number): void {
    const now = Date.now();
    if (this.writeStartedAt !== 0 && now - this.writeStartedAt > stallMs) this.abandon();
    // Only events with output are progress (StreamMeter.progress): comments, keep-alives and empty chunks are not.
    // Cancelling the reader ends the pending read, and the pump ends the stream.
    if (!this.stalled && now - this.lastProgressAt > upstreamStallMs) {
      this.stalled = true;
      this.source.reader.cancel("the node stalled").catch(() => {});
    }
  }

  finish(failure: Failure): void {
    if (!this.resolveResult) return;
    const m = this.meter;
    this.resolveResult({
      usage: m.usage,
      completed: failure === null && m.completed,
      failure,
      clientGone: this.clientGone,
      sseError: m.sseError,
      malformed: m.malformed,
      bytes: this.bytes,
      durationMs: Date.now() - this.startedAt,
      digest: m.finishDigest(),
      receipt: m.receipt,
      relayed: m.relayed,
      afterLeave: m.afterLeave,
    });
    this.resolveResult = null;
    clearInterval(this.watchdog);
    clearTimeout(this.drainTimer);
  }

  readonly abandon = (): void => {
    if (!this.resolveResult || this.clientGone) return;
    this.clientGone = true;
    this.meter.clientLeft();
    this.wakeWriter();
    this.writeStartedAt = 0;
    this.writer.abort("client disconnected").catch(() => {});
    this.opts.onClientGone?.();
    this.drainTimer = setTimeout(() => {
      if (!this.resolveResult) return;
      this.finish("client_cancelled");
      this.source.reader.cancel("client disconnected").catch(() => {});
    }, this.opts.drainMs ?? DRAIN_AFTER_CLIENT_LEFT_MS);
  };

  private async write(chunk: Uint8Array): Promise<void> {
    if (this.clientGone) return;
    this.writeStartedAt = Date.now();
    await Promise.race([this.writer.write(chunk).catch(this.abandon), this.left]);
    this.writeStartedAt = 0;
  }

  /** Ends the client's stream: what is held back, an error event if the node failed, then the end. */
  private async end(failure: Failure): Promise<void> {
    const tail = this.meter.end();
    if (tail) await this.write(tail);
    const responses = this.meter.dialect === RESPONSES_DIALECT;
    // A Responses client waits for the last event (the SDKs' final response): a stream that closes without it was
    // cut short, and says so as a failure does. One that had it is over for the client, whatever the node sent after.
    if (failure !== null || (responses && !this.meter.ended))
      await this.write(encoder.encode(responses ? MID_STREAM_RESPONSES_ERROR_EVENT : MID_STREAM_ERROR_EVENT));
    if (!this.clientGone) await this.writer.close().catch(() => {});
    this.finish(failure);
  }

  /** One chunk from the node: metered, sent on. False when the stream must end (the node broke a bound). */
  private async relay(chunk: Uint8Array): Promise<boolean> {
    this.bytes += chunk.byteLength;
    const forwarded = this.meter.chunk(chunk);
    if (this.meter.progress !== this.progressSeen) {
      this.progressSeen = this.meter.progress;
      this.lastProgressAt = Date.now();
    }
    if (forwarded) await this.write(forwarded);
    return !this.meter.overflowed;
  }

  async pump(): Promise<void> {
    for (const chunk of this.source.held) if (!(await this.relay(chunk))) return this.fail("upstream_malformed");
    this.source.held = [];
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await this.source.reader.read();
      } catch {
        return this.end(this.stalled ? "upstream_stalled" : "upstream_error");
      }
      if (step.done) return this.end(this.stalled ? "upstream_stalled" : null);
      if (!(await this.relay(step.value))) return this.fail("upstream_malformed");
      if (!this.resolveResult) return;
      // Draining for a client that left: let timers run now and then (a node whose chunks are already buffered would
      // otherwise keep this loop in microtasks, and the drain limit could never fire).
      if (this.clientGone && ++this.drained % DRAIN_YIELD_EVERY === 0)
        await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  private fail(failure: Failure): Promise<void> {
    this.source.reader.cancel("the node broke the stream's bounds").catch(() => {});
    return this.end(failure);
  }
}

export function meterStream(body: ReadableStream<Uint8Array> | NodeBody | null, opts: MeterOptions): MeteredBody {
  const source =
    body === null
      ? nodeBody(new ReadableStream({ start: (c) => c.close() }))
      : body instanceof ReadableStream
        ? nodeBody(body)
        : body;
  const relay = new StreamRelay(source, opts);
  relay.pump().catch(relay.abandon);
  return { body: relay.readable, result: relay.result, abandon: relay.abandon };
}
