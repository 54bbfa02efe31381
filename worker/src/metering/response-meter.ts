// Passes a node's event stream through to the client chunk by chunk while reading out of it what it is billed by:
// the node's usage and receipt, and what the stream relayed (its output, the digest of its data payloads).
import { RECEIPT_COMMENT_PREFIX, SseDecoder, StreamDigest } from "@meshgate/schemas";
import { OutputTally } from "./output-tally.js";
import { inspectChunk, type TokenCounts } from "./usage.js";

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
  /** Why the body did not complete, if it did not ("client_cancelled": the client left and the node did not finish in time). */
  failure: "upstream_error" | "upstream_stalled" | "client_cancelled" | null;
  /** The client left before the end (the rest of the node's answer was read without it). */
  clientGone: boolean;
  /** The node sent an error envelope (`data: {"error": …}`) inside its 200 stream. */
  sseError: boolean;
  bytes: number;
  /** From the start of metering (the first token is already in) to the end of the stream, ms. */
  durationMs: number;
  /** StreamDigest of the data payloads as the node sent them (before any usage was hidden): what its receipt names. */
  digest: string;
  /** The node's receipt (wire form), taken out of the stream: its last event; null when it sent none there. */
  receipt: string | null;
  /** What the stream's data events carried to the client. */
  relayed: OutputTally;
  /** What they carried after the client left (read, never relayed). */
  afterLeave: OutputTally;
}

/** Cheap pre-check, as for usage: only an event that may be an error envelope is parsed. */
export function isErrorEnvelope(data: string): boolean {
  if (!/^\s*\{\s*"error"\s*:/.test(data)) return false;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null && "error" in value && !("choices" in value);
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

export const MID_STREAM_ERROR_EVENT = `data: ${JSON.stringify({
  error: { message: "The node serving this request failed mid-stream.", type: "api_error", param: null, code: "upstream_stream_error" },
})}\n\n`;

/** A data payload as JSON; undefined when it is not (forwarded as it is, carrying nothing billable). */
function parsePayload(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** The end of a stream as clients read it: openai-node and openai-python stop at a payload starting with [DONE]. */
function isDone(data: string): boolean {
  return data.startsWith("[DONE]");
}

function isErrorObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && "error" in value && !("choices" in value);
}

function streamProcessor(hideUsage: boolean, choices: number) {
  const textDecoder = new TextDecoder();
  const sse = new SseDecoder();
  const digest = new StreamDigest();
  const relayed = new OutputTally(choices);
  const afterLeave = new OutputTally(choices);
  let output = relayed;
  let usage: TokenCounts | null = null;
  let receipt: string | null = null;
  let done = false;
  let dataAfterDone = false;
  let sseError = false;
  let dataEvents = 0;
  /** One data event: metered, and what to send the client for it ("" to send nothing). */
  const meter = (data: string, raw: string): { out: string; changed: boolean } => {
    dataEvents++;
    digest.add(data);
    // Anything after a receipt comment means it was not the last event, so not the receipt.
    receipt = null;
    // Clients stop reading at [DONE] (the SDKs at any payload that starts with it): nothing after it reaches anyone,
    // or is billed, and anything but a repeated [DONE] makes the stream malformed.
    if (done) {
      if (!isDone(data)) dataAfterDone = true;
      return { out: "", changed: true };
    }
    if (isDone(data)) {
      done = true;
      return { out: raw, changed: false };
    }
    const value = parsePayload(data);
    if (isErrorObject(value)) sseError = true;
    output.add(value);
    const verdict = inspectChunk(value, hideUsage);
    if (verdict.usage) usage = verdict.usage;
    if (verdict.action === "forward") return { out: raw, changed: false };
    return { out: verdict.action === "rewrite" ? `data: ${verdict.data}\n\n` : "", changed: true };
  };
  const handle = (events: ReturnType<SseDecoder["push"]>): { out: string; changed: boolean } => {
    let out = "";
    let changed = false;
    for (const event of events) {
      if (event.data !== null) {
        const metered = meter(event.data, event.raw);
        out += metered.out;
        changed ||= metered.changed;
      } else if (event.raw.startsWith(RECEIPT_COMMENT_PREFIX)) {
        // The node's receipt is for the gateway, never the client. It counts only as the stream's last event.
        receipt = event.raw.slice(RECEIPT_COMMENT_PREFIX.length).trim();
        changed = true;
      } else out += event.raw;
    }
    return { out, changed };
  };
  return {
    /** Returns the bytes to send for this chunk (possibly the chunk itself), or null to hold them back. */
    chunk(bytes: Uint8Array): Uint8Array | null {
      const heldBefore = sse.buffered;
      const { out, changed } = handle(sse.push(textDecoder.decode(bytes, { stream: true })));
      // Whole events in, none altered: forward the original bytes without re-encoding. (A node's servers write whole
      // events per chunk; one split across chunks is held until it is whole, so a receipt never leaks half-sent.)
      if (!changed && heldBefore === 0 && sse.buffered === 0) return bytes;
      return out ? encoder.encode(out) : null;
    },
    /** Returns any bytes still held back at the end of the stream. */
    end(): Uint8Array | null {
      const { out } = handle(sse.push(textDecoder.decode()).concat(sse.flush()));
      return out ? encoder.encode(out) : null;
    },
    usage: () => usage,
    digest: () => digest.finish(),
    receipt: () => receipt,
    relayed: () => relayed,
    afterLeave: () => afterLeave,
    /** The client left: what comes next is tallied apart. */
    clientLeft: () => {
      output = afterLeave;
    },
    completed: () => done && !dataAfterDone,
    sseError: () => sseError,
    /** Data events seen so far (comments and keep-alives are not): progress, for the stall timer. */
    dataEvents: () => dataEvents,
  };
}

export interface MeteredBody {
  body: ReadableStream<Uint8Array>;
  /** Settles exactly once: when the body ends, breaks, or is abandoned. */
  result: Promise<MeterResult>;
  /** The client went away: stop sending to it, read the rest of the node's answer. The runtime does not always cancel the body. */
  abandon(): void;
}

export function meterStream(body: ReadableStream<Uint8Array> | null, opts: MeterOptions): MeteredBody {
  const processor = streamProcessor(opts.hideUsage, opts.choices);
  let settle: ((r: MeterResult) => void) | null = null;
  const result = new Promise<MeterResult>((resolve) => (settle = resolve));
  let bytes = 0;
  const startedAt = Date.now();
  let clientGone = false;
  const finish = (failure: MeterResult["failure"]) => {
    const durationMs = Date.now() - startedAt;
    settle?.({
      usage: processor.usage(),
      completed: failure === null && processor.completed(),
      failure,
      clientGone,
      sseError: processor.sseError(),
      bytes,
      durationMs,
      digest: processor.digest(),
      receipt: processor.receipt(),
      relayed: processor.relayed(),
      afterLeave: processor.afterLeave(),
    });
    settle = null;
  };
  if (!body) {
    processor.end();
    finish(null);
    return { body: new ReadableStream({ start: (c) => c.close() }), result, abandon: () => {} };
  }
  const reader = body.getReader();
  // The bytes go to the client through a native identity stream: each write completes when the client side has taken
  // the chunk, so nothing is buffered, and a client that has gone makes the write fail (or stall, see stallMs).
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const stallMs = opts.stallMs ?? CLIENT_STALL_MS;
  let writeStartedAt = 0;
  const watchdog = setInterval(() => {
    if (writeStartedAt !== 0 && Date.now() - writeStartedAt > stallMs) abandon();
  }, Math.max(10, Math.floor(stallMs / 4)));
  const drainLimitMs = opts.drainMs ?? DRAIN_AFTER_CLIENT_LEFT_MS;
  let drained = 0;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  // A write to a client that left may never settle (see CLIENT_STALL_MS): leaving releases it, so reading goes on.
  let wakeWriter = () => {};
  const left = new Promise<void>((resolve) => (wakeWriter = resolve));
  const abandon = () => {
    if (!settle || clientGone) return;
    clientGone = true;
    processor.clientLeft();
    wakeWriter();
    writeStartedAt = 0;
    writer.abort("client disconnected").catch(() => {});
    opts.onClientGone?.();
    drainTimer = setTimeout(() => {
      if (!settle) return;
      finish("client_cancelled");
      reader.cancel("client disconnected").catch(() => {});
    }, drainLimitMs);
  };
  const write = async (chunk: Uint8Array) => {
    if (clientGone) return;
    writeStartedAt = Date.now();
    await Promise.race([writer.write(chunk).catch(abandon), left]);
    writeStartedAt = 0;
  };
  const close = async () => {
    if (!clientGone) await writer.close().catch(() => {});
  };
  const upstreamStallMs = opts.upstreamStallMs ?? UPSTREAM_STALL_MS;
  // Only data events are progress: a node sending nothing but comments or keep-alives has stalled all the same.
  let lastDataAt = Date.now();
  let dataSeen = 0;
  const read = async () => {
    const left = upstreamStallMs - (Date.now() - lastDataAt);
    if (left <= 0) return "stalled" as const;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<"stalled">((resolve) => (timer = setTimeout(() => resolve("stalled"), left)));
    try {
      return await Promise.race([reader.read(), stalled]);
    } finally {
      clearTimeout(timer);
    }
  };
  const pump = async () => {
    for (;;) {
      let step;
      try {
        step = await read();
      } catch {
        step = "failed" as const;
      }
      if (step === "stalled" || step === "failed") {
        if (step === "stalled") reader.cancel("the node stalled").catch(() => {});
        const tail = processor.end();
        if (tail) await write(tail);
        await write(encoder.encode(MID_STREAM_ERROR_EVENT));
        await close();
        return finish(step === "stalled" ? "upstream_stalled" : "upstream_error");
      }
      if (step.done) {
        const tail = processor.end();
        if (tail) await write(tail);
        await close();
        return finish(null);
      }
      bytes += step.value.byteLength;
      const forwarded = processor.chunk(step.value);
      if (processor.dataEvents() !== dataSeen) {
        dataSeen = processor.dataEvents();
        lastDataAt = Date.now();
      }
      if (forwarded) await write(forwarded);
      if (!settle) return;
      // Draining for a client that left: let timers run now and then (a node whose chunks are already buffered would
      // otherwise keep this loop in microtasks, and the drain limit could never fire).
      if (clientGone && ++drained % DRAIN_YIELD_EVERY === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  void result.then(() => {
    clearInterval(watchdog);
    clearTimeout(drainTimer);
  });
  pump().catch(abandon);
  return { body: readable, result, abandon };
}
