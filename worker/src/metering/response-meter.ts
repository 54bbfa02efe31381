// Relays a node's event stream to the client natively and meters a copy of it: the runtime tees the node's body,
// pipes one branch to the client without JavaScript touching a chunk, and this code reads the other in batches for
// what the answer is billed by (the node's usage and receipt, what the stream carried, the digest of its payloads).
// Each chunk read and written in JavaScript cost a Worker ~3.6x a pass-through's CPU per stream; this way it is
// about 0.9x (tools/bench/relay-floor). The gateway therefore changes nothing in a stream: a node's receipt comment
// reaches the client after `[DONE]` (SSE clients skip comments and stop at `[DONE]`), and usage a client did not ask
// for is hidden by the node agent, which reports it in its receipt instead.
import { collect, type Collected } from "../mesh/answer-collect.js";
import type { OutputTally } from "./output-tally.js";
import { StreamMeter } from "./stream-meter.js";
import type { TokenCounts } from "./usage.js";

export interface MeterOptions {
  /** Choices the request asked for (RequestShape.choices): output for any other is not tallied. */
  choices: number;
  /** After the node's stream has ended, a client that has not taken all of it within this is treated as gone. */
  stallMs?: number;
  /** A node that sends no output for this long mid-stream has stalled: the stream is ended with an error event. */
  upstreamStallMs?: number;
  /** How long the rest of a node's answer is read after its client left (DRAIN_AFTER_CLIENT_LEFT_MS). */
  drainMs?: number;
  /** Called once if the client leaves before the end: the node should stop (and send a receipt for what it relayed). */
  onClientGone?: () => void;
}

/** Generation pauses (a long tool call, a slow prefill of a later turn) rarely last this long without a keep-alive. */
export const UPSTREAM_STALL_MS = 30_000;

/**
 * Cloudflare cancels a response body when its client disconnects; local workerd behind Miniflare does not always.
 * A client that has not taken the whole answer this long after the node finished it is treated as gone.
 */
export const CLIENT_STALL_MS = 10_000;

/**
 * A client that leaves stops the node (onClientGone), and the rest of what the node sends is still read (not
 * relayed): its receipt for the part it relayed, or, if it had already finished, the usage and receipt of the whole
 * answer. Leaving just before the usage chunk therefore makes no answer free. A node that has not ended its answer
 * this long after the client left is cut off, and the answer goes unbilled.
 */
export const DRAIN_AFTER_CLIENT_LEFT_MS = 10_000;

/**
 * The most a stream may carry. The runtime's tee holds whatever the client has not taken yet, without limit: this
 * bounds what one slow client (with a fast node) makes an isolate hold. ~80k tokens of plain streamed text.
 */
export const MAX_STREAM_BYTES = 16 * 1024 * 1024;

/** A pipe that failed without the meter having seen the node fail within this was failed by the client. */
const CLIENT_GONE_CONFIRM_MS = 50;

export interface MeterResult {
  usage: TokenCounts | null;
  /** The stream ended normally: `[DONE]` was its last data event. */
  completed: boolean;
  /**
   * Why the body did not complete, if it did not ("client_cancelled": the client left and the node did not finish in
   * time; "too_large": the stream passed MAX_STREAM_BYTES, the request's doing as much as the node's).
   */
  failure: "upstream_error" | "upstream_stalled" | "upstream_malformed" | "too_large" | "client_cancelled" | null;
  /** The client left before the end (the rest of the node's answer was read without it). */
  clientGone: boolean;
  /** The node sent an error envelope (`data: {"error": …}`) inside its 200 stream. */
  sseError: boolean;
  /** A data payload was neither [DONE] nor a JSON object. */
  malformed: boolean;
  bytes: number;
  /** From the start of metering (the first token is already in) to the end of the stream, ms. */
  durationMs: number;
  /** StreamDigest of the data payloads as the node sent them: what its receipt names. */
  digest: Promise<string>;
  /** The node's receipt (wire form): the stream's last event; null when it sent none there. */
  receipt: string | null;
  /** What the stream's data events carried to the client, as far as the meter had read when it left. */
  relayed: OutputTally;
  /** What they carried after the client left (read, never relayed). */
  afterLeave: OutputTally;
}

const encoder = new TextEncoder();

export const MID_STREAM_ERROR_EVENT = `data: ${JSON.stringify({
  error: { message: "The node serving this request failed mid-stream.", type: "api_error", param: null, code: "upstream_stream_error" },
})}\n\n`;

/** Ends whatever event a broken stream stopped inside of, so the error event after it is read as one. */
const EVENT_BREAK = "\n\n";

/**
 * A node's body as the dispatch step hands it on: the chunks it already read (up to the first token), the reader
 * it read them with, the body itself (teed once the reader's lock is released), and a way to break it off.
 */
export interface NodeBody {
  held: Uint8Array[];
  reader: ReadableStreamDefaultReader<Uint8Array>;
  stream: ReadableStream<Uint8Array>;
  /** Ends the body with an error (the node's fetch is aborted): both branches of a teed body end at once. */
  abort(reason: string): void;
}

export function nodeBody(stream: ReadableStream<Uint8Array>, abort: (reason: string) => void = () => {}): NodeBody {
  return { held: [], reader: stream.getReader(), stream, abort };
}

export interface MeteredBody {
  body: ReadableStream<Uint8Array>;
  /** Settles exactly once: when the node's stream ends, breaks, or is given up on. */
  result: Promise<MeterResult>;
  /** The client went away: stop sending to it, read the rest of the node's answer. The runtime does not always cancel the body. */
  abandon(): void;
}

type Failure = MeterResult["failure"];
type Delivery = "relayed" | "stopped" | "failed";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function failureOf(read: Collected): Failure {
  if (read.kind === "done") return null;
  if (read.kind === "stalled") return "upstream_stalled";
  if (read.kind === "too_large") return "too_large";
  // An event past the bound: nothing more of the stream can be read.
  if (read.kind === "refused") return "upstream_malformed";
  return "upstream_error";
}

function join(parts: readonly Uint8Array[]): Uint8Array | null {
  if (parts.length <= 1) return parts[0] ?? null;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Owns one stream's two branches: the client's, piped natively into an identity stream this code still holds (so an
 * error event can follow a failure), and the meter's, read in batches.
 */
class StreamRelay {
  readonly meter: StreamMeter;
  readonly readable: ReadableStream<Uint8Array>;
  private readonly writable: WritableStream<Uint8Array>;
  readonly result: Promise<MeterResult>;
  private settle: ((r: MeterResult) => void) | null = null;
  private bytes = 0;
  private readonly startedAt = Date.now();
  private clientGone = false;
  /** Stops the client's pipe (a failure to report, a client gone, one that takes too long). */
  private readonly stopPipe = new AbortController();
  /** Stops reading the node (a client gone, and the node not done within the drain limit). */
  private readonly stopReading = new AbortController();
  private drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The writer of what was read before the first token, while that write is pending (a client not reading yet). */
  private heldWriter: WritableStreamDefaultWriter<Uint8Array> | null = null;

  constructor(
    private readonly source: NodeBody,
    private readonly opts: MeterOptions,
  ) {
    this.meter = new StreamMeter({ hideUsage: false, choices: opts.choices });
    this.result = new Promise<MeterResult>((resolve) => (this.settle = resolve));
    const { readable, writable } = new IdentityTransformStream();
    this.readable = readable;
    this.writable = writable;
  }

  readonly abandon = (): void => {
    if (!this.settle || this.clientGone) return;
    this.clientGone = true;
    this.meter.clientLeft();
    this.stopPipe.abort("client disconnected");
    this.opts.onClientGone?.();
    this.drainTimer = setTimeout(() => {
      this.finish("client_cancelled");
      this.stopReading.abort("client disconnected");
    }, this.opts.drainMs ?? DRAIN_AFTER_CLIENT_LEFT_MS);
  };

  async run(): Promise<void> {
    const held = this.source.held;
    for (const chunk of held) this.take(chunk);
    this.source.reader.releaseLock();
    const [toClient, copy] = this.source.stream.tee();
    const metering = this.read(copy);
    const delivery = this.deliver(join(held), toClient, metering);
    const failure = await metering;
    this.finish(failure);
    // The node failed: its body is broken off, which ends the client's pipe where it is, and an error event follows.
    if (failure !== null && failure !== "client_cancelled") this.source.abort("the node broke the stream's bounds");
    const delivered = await this.within(delivery, this.opts.stallMs ?? CLIENT_STALL_MS);
    await this.end(delivered, delivery, failure);
  }

  /** Meters the node's stream (the meter's branch) to its end. */
  private async read(copy: ReadableStream<Uint8Array>): Promise<Failure> {
    let seen = this.meter.progress;
    const read = await collect(copy, {
      onBytes: (bytes) => this.take(bytes),
      limit: MAX_STREAM_BYTES,
      stallMs: this.opts.upstreamStallMs ?? UPSTREAM_STALL_MS,
      // Only events with output are progress (StreamMeter.progress): comments, keep-alives and empty chunks are not.
      progressed: () => seen !== (seen = this.meter.progress),
      signal: this.stopReading.signal,
    });
    if (read.kind === "done") this.meter.end();
    return this.stopReading.signal.aborted ? "client_cancelled" : failureOf(read);
  }

  /** One batch of the node's bytes, metered. False when the stream must end (the node broke a bound). */
  private take(bytes: Uint8Array): boolean {
    this.bytes += bytes.byteLength;
    this.meter.chunk(bytes);
    return !this.meter.overflowed;
  }

  /** The client's branch: what was read before the first token, then the rest, piped natively. */
  private async deliver(held: Uint8Array | null, toClient: ReadableStream<Uint8Array>, metering: Promise<Failure>): Promise<Delivery> {
    const signal = this.stopPipe.signal;
    try {
      if (held) {
        this.heldWriter = this.writable.getWriter();
        await this.heldWriter.write(held);
        this.heldWriter.releaseLock();
        this.heldWriter = null;
      }
      await toClient.pipeTo(this.writable, { preventClose: true, preventAbort: true, signal });
      return "relayed";
    } catch {
      if (signal.aborted) return "stopped";
      // A pipe fails when its client has gone, or when the node's stream broke or was broken off (the meter sees
      // that at once).
      const nodeFailed = await Promise.race([metering.then((f) => f !== null), sleep(CLIENT_GONE_CONFIRM_MS).then(() => false)]);
      if (!nodeFailed) this.abandon();
      return nodeFailed ? "stopped" : "failed";
    }
  }

  /** The delivery, or "failed" when it has not finished within `ms` (a client that stopped reading). */
  private async within(delivery: Promise<Delivery>, ms: number): Promise<Delivery> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<Delivery>((resolve) => (timer = setTimeout(() => resolve("failed"), ms)));
    const outcome = await Promise.race([delivery, late]);
    clearTimeout(timer);
    if (outcome === "failed") this.stopPipe.abort("the client stopped reading");
    return outcome;
  }

  /** Ends the client's stream: an error event after a failure, then the end; a client that is gone is cut off. */
  private async end(delivered: Delivery, delivery: Promise<Delivery>, failure: Failure): Promise<void> {
    const writer = await this.writer(delivery);
    if (delivered === "failed" || this.clientGone) {
      await writer.abort("client gone").catch(() => {});
      return;
    }
    if (failure !== null) await writer.write(encoder.encode(EVENT_BREAK + MID_STREAM_ERROR_EVENT)).catch(() => {});
    await writer.close().catch(() => {});
  }

  /** The client's writer, once the pipe (stopped, but perhaps still handing a chunk to a slow client) lets go of it. */
  private async writer(delivery: Promise<Delivery>): Promise<WritableStreamDefaultWriter<Uint8Array>> {
    if (this.heldWriter) return this.heldWriter;
    try {
      return this.writable.getWriter();
    } catch {
      await delivery;
      return this.writable.getWriter();
    }
  }

  private finish(failure: Failure): void {
    if (!this.settle) return;
    const m = this.meter;
    this.settle({
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
    this.settle = null;
    clearTimeout(this.drainTimer);
  }
}

/** Meters and relays a node's stream; a bare stream (in tests) cannot be broken off, a NodeBody from dispatch can. */
export function meterStream(body: ReadableStream<Uint8Array> | NodeBody | null, opts: MeterOptions): MeteredBody {
  const stream = body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const relay = new StreamRelay(stream instanceof ReadableStream ? nodeBody(stream) : stream, opts);
  relay.run().catch(relay.abandon);
  return { body: relay.readable, result: relay.result, abandon: relay.abandon };
}
