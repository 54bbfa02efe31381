// What the gateway reads out of a node's event stream, chunk by chunk: the node's usage and receipt, what the stream
// relayed to the client (its output per choice, the digest of its data payloads), and the bytes to send on. Bounded
// and linear: each byte is decoded and scanned once, and an event that grows past MAX_SSE_EVENT_LENGTH ends the stream.
import { CHAT_DIALECT, RECEIPT_COMMENT_PREFIX, SseDecoder, type SseEvent, type StreamDialect } from "@meshgate/schemas";
import { NativeStreamDigest } from "./native-digest.js";
import { OutputTally } from "./output-tally.js";
import { Utf8Chunks } from "./utf8-chunks.js";
import { inspectChunk, usageCounts, type TokenCounts } from "./usage.js";

const encoder = new TextEncoder();

/** The end of a stream as clients read it: openai-node and openai-python stop at a payload starting with [DONE]. */
export function isDone(data: string): boolean {
  return data.startsWith("[DONE]");
}

/** A data payload as JSON; undefined when it is not JSON. */
export function parsePayload(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

export interface StreamMeterOptions {
  /** Remove usage the gateway asked the node for but the client did not. */
  hideUsage: boolean;
  /** Choices the request asked for (RequestShape.choices): output for any other is not tallied. */
  choices: number;
  /** Each parsed data payload before [DONE], e.g. to assemble a whole answer from the stream. */
  onPayload?: (value: unknown, name: string | undefined) => void;
  /**
   * False when nothing is sent on (a whole answer is assembled from the stream instead): chunk() and end() then return
   * null, and what changed on the way (the receipt taken out) is never encoded back into bytes.
   */
  relay?: boolean;
  /** How the stream is read: chat chunks ending with [DONE] (the default), or Responses events. */
  dialect?: StreamDialect;
}

export class StreamMeter {
  private readonly text = new Utf8Chunks();
  private readonly sse = new SseDecoder();
  private readonly digest = new NativeStreamDigest();
  readonly relayed: OutputTally;
  readonly afterLeave: OutputTally;
  private output: OutputTally;
  usage: TokenCounts | null = null;
  /** The node's receipt (wire form): its stream's last event; null while anything has come after it. */
  receipt: string | null = null;
  private done = false;
  private dataAfterDone = false;
  /** The node sent an error envelope (`data: {"error": …}`) inside its 200 stream. */
  sseError = false;
  /**
   * Events that carried output, and the first [DONE]: progress, for the stall timer. Empty chunks, usage and repeated
   * [DONE]s are not, so a node cannot hold a request open with them.
   */
  progress = 0;
  /**
   * A data payload was neither [DONE] nor a JSON object (or was named as another event): not a stream a client can
   * read.
   */
  malformed = false;
  /** The clients' SDKs stopped reading (see meter()): output after this is not tallied. */
  private unread = false;
  /** Bytes of data events and comments that changed on the way (a receipt, hidden usage, anything after [DONE]). */
  private changed = false;
  readonly dialect: StreamDialect;

  constructor(private readonly opts: StreamMeterOptions) {
    this.dialect = opts.dialect ?? CHAT_DIALECT;
    this.relayed = new OutputTally(opts.choices);
    this.afterLeave = new OutputTally(opts.choices);
    this.output = this.relayed;
  }

  /** The stream ended normally: `[DONE]` (Responses: its last event) ended it, nothing came after it. */
  get completed(): boolean {
    return this.done && !this.dataAfterDone;
  }

  /** The stream's end (`[DONE]`, a Responses last event) came, whatever the node sent after it. */
  get ended(): boolean {
    return this.done;
  }

  /** An event grew past the bound: nothing more of the stream can be read. */
  get overflowed(): boolean {
    return this.sse.overflowed;
  }

  /** The client left: what comes next is tallied apart. */
  clientLeft(): void {
    this.output = this.afterLeave;
  }

  /** The stream's digest (StreamDigest of its data payloads, as the node sent them): what its receipt names. */
  finishDigest(): Promise<string> {
    return this.digest.finish();
  }

  /**
   * Returns the bytes to send on for this chunk: the chunk itself when it held whole events and none changed (the
   * common case: servers write an event per chunk), other bytes when something was taken out, null for nothing.
   */
  chunk(bytes: Uint8Array): Uint8Array | null {
    const heldBefore = this.sse.buffered;
    this.changed = false;
    const out = this.handle(this.sse.push(this.text.decode(bytes)));
    if (this.opts.relay === false) return null;
    if (!this.changed && heldBefore === 0 && this.sse.buffered === 0 && !this.sse.overflowed) return bytes;
    return out ? encoder.encode(out) : null;
  }

  /** Returns any bytes still held back at the end of the stream. */
  end(): Uint8Array | null {
    const events = this.sse.push(this.text.end());
    const out = this.handle(events.concat(this.sse.flush()));
    return out && this.opts.relay !== false ? encoder.encode(out) : null;
  }

  private handle(events: SseEvent[]): string {
    let out = "";
    for (const event of events) {
      if (event.data !== null) out += this.meter(event.data, event.raw, event.event);
      else if (event.raw.startsWith(RECEIPT_COMMENT_PREFIX)) {
        // The node's receipt is for the gateway, never the client. It counts only as the stream's last event.
        this.receipt = event.raw.slice(RECEIPT_COMMENT_PREFIX.length).trim();
        this.changed = true;
      } else out += event.raw;
    }
    return out;
  }

  /** One data event: metered; returns what to send the client for it ("" for nothing). */
  private meter(data: string, raw: string, name: string | undefined): string {
    this.digest.add(data);
    this.receipt = null;
    // Clients stop reading at [DONE] (Responses: at its last event): nothing after it reaches anyone or is billed, and
    // anything but a [DONE] makes the stream malformed (a server may end a Responses stream with one, as chat's).
    const { dialect } = this;
    if (this.done) {
      if (!isDone(data)) this.dataAfterDone = true;
      this.changed = true;
      return "";
    }
    if (dialect.isMarker(data)) {
      this.done = true;
      this.progress++;
      return raw;
    }
    const value = parsePayload(data);
    const readAs = dialect.isReadAs(name, value);
    if (!dialect.isWellFormed(value) || !readAs) this.malformed = true;
    if (dialect.isError(value)) this.sseError = true;
    const counted = readAs && !this.unread;
    // Both SDKs stop reading at an error (they throw) and at [DONE] in any stream (a Responses one too): what follows
    // is sent on as the node sent it, but no client read it, so it is not counted as relayed.
    if (this.sseError || isDone(data)) this.unread = true;
    const before = this.output.chunkTokens;
    if (counted) this.output.addOutputs(dialect.outputs(value));
    if (this.output.chunkTokens !== before) this.progress++;
    this.opts.onPayload?.(value, name);
    // A Responses stream ends with its last event, which carries the usage and is relayed as it came.
    if (dialect.isLast(value)) {
      this.done = true;
      this.progress++;
      this.usage = usageCounts(dialect.usage(value));
      return raw;
    }
    if (dialect !== CHAT_DIALECT) return raw;
    const verdict = inspectChunk(value, this.opts.hideUsage);
    if (verdict.usage) this.usage = verdict.usage;
    if (verdict.action === "forward") return raw;
    this.changed = true;
    return verdict.action === "rewrite" ? `data: ${verdict.data}\n\n` : "";
  }
}
