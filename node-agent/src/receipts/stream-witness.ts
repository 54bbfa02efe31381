// Watches a streamed answer go by, without holding any of it back, for what its receipt covers: the digest of its
// data payloads (StreamDigest), the last usage it reported, and the tokens its chunks carried (for an answer stopped
// before its usage came). Chat chunks and Responses events are read by their dialect (schemas' stream-dialect.ts), as
// the gateway reads them.
import {
  CHAT_DIALECT,
  chunkTokens,
  SseDecoder,
  type SseEvent,
  type StreamDialect,
  type TokenCount,
} from "@meshgate/schemas";
import { NativeStreamDigest } from "./digest.js";
import { mayCarryUsage } from "./usage.js";

export interface WitnessedStream {
  bodyDigest: string;
  usage: TokenCount;
}

/** What a stream stopped part way had relayed, once its last event was closed. */
export interface PartialStream {
  bodyDigest: string;
  /** The last usage the upstream reported while streaming (some servers report it on every chunk); null if none. */
  usage: TokenCount | null;
  /** Tokens the relayed chunks carried: chunkTokens() over every choice of every chunk. */
  relayedTokens: number;
}

export interface StoppedStream {
  /** Text to write after the bytes relayed so far so that they end on an event boundary ("" when they already do). */
  closer: string;
  /** Null when the witness had given up on the stream: no receipt can describe it. */
  seen: PartialStream | null;
}

/**
 * The most text (UTF-16 units, so at least as many bytes) held waiting for an event's closing blank line. An answer
 * past it is not SSE the witness can follow, and it would otherwise grow and be rescanned on every chunk: it is no
 * longer witnessed (no receipt), while the relay goes on untouched.
 */
const MAX_PENDING_EVENT = 1024 * 1024;
const NEWLINE = Uint8Array.of(0x0a);

export class StreamWitness {
  private readonly text = new TextDecoder();
  /** Null once the witness gave up on this answer. */
  private events: SseDecoder | null = new SseDecoder();
  private readonly digest = new NativeStreamDigest();
  private usage: TokenCount | null = null;
  private relayedTokens = 0;
  private done = false;

  constructor(private readonly dialect: StreamDialect = CHAT_DIALECT) {}

  push(chunk: Uint8Array): void {
    if (!this.events) return;
    this.take(this.events.push(this.text.decode(chunk, { stream: true })));
    // The decoder drops an event past its own bound (overflowed); either way, this answer is beyond witnessing.
    if (this.events.overflowed || this.events.buffered > MAX_PENDING_EVENT) this.events = null;
  }

  /**
   * After the upstream's last byte: null unless the stream ended cleanly (`[DONE]`, or Responses' last event) with
   * usage.
   */
  end(): WitnessedStream | null {
    if (!this.events) return null;
    this.take(this.events.push(this.text.decode()));
    // An event left without its closing blank line would swallow the receipt comment written after it.
    if (this.events.buffered > 0 || !this.done || !this.usage) return null;
    return { bodyDigest: this.digest.finish(), usage: this.usage };
  }

  /**
   * The stream is being stopped after the bytes pushed so far. Closes the event they end inside of by witnessing
   * newlines until the decoder holds nothing (at most two: "\n\n" after a line's text, "\n" after its line end), so
   * the closer is exactly what a decoder on the other side needs too: written once more, it would open a new event.
   */
  stop(): StoppedStream {
    if (!this.events) return { closer: "\n\n", seen: null };
    let closer = "";
    while (this.events.buffered > 0 && closer.length < 2) {
      closer += "\n";
      this.take(this.events.push(this.text.decode(NEWLINE, { stream: true })));
    }
    if (this.events.buffered > 0) return { closer, seen: null };
    return { closer, seen: { bodyDigest: this.digest.finish(), usage: this.usage, relayedTokens: this.relayedTokens } };
  }

  private take(events: readonly SseEvent[]): void {
    for (const { data } of events) {
      if (data === null) continue;
      this.digest.add(data);
      if (this.dialect.isMarker(data)) this.done = true;
      else this.read(data);
    }
  }

  private read(data: string): void {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return;
    }
    for (const output of this.dialect.outputs(chunk)) this.relayedTokens += chunkTokens(output);
    if (mayCarryUsage(data)) this.usage = this.dialect.usage(chunk) ?? this.usage;
    if (this.dialect.isLast(chunk)) this.done = true;
  }
}
