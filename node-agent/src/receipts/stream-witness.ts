// Watches a streamed answer go by, without holding any of it back, for what its receipt covers: the digest of its
// data payloads (StreamDigest) and the last usage it reported.
import { SseDecoder, type SseEvent, type TokenCount } from "@meshgate/schemas";
import { NativeStreamDigest } from "./digest.js";
import { mayCarryUsage, usageOfJson } from "./usage.js";

export interface WitnessedStream {
  bodyDigest: string;
  usage: TokenCount;
}

/**
 * The most text (UTF-16 units, so at least as many bytes) held waiting for an event's closing blank line. An answer
 * past it is not SSE the witness can follow, and it would otherwise grow and be rescanned on every chunk: it is no
 * longer witnessed (no receipt), while the relay goes on untouched.
 */
const MAX_PENDING_EVENT = 1024 * 1024;

export class StreamWitness {
  private readonly text = new TextDecoder();
  /** Null once the witness gave up on this answer. */
  private events: SseDecoder | null = new SseDecoder();
  private readonly digest = new NativeStreamDigest();
  private usage: TokenCount | null = null;
  private done = false;

  push(chunk: Uint8Array): void {
    if (!this.events) return;
    this.take(this.events.push(this.text.decode(chunk, { stream: true })));
    if (this.events.buffered > MAX_PENDING_EVENT) this.events = null;
  }

  /** After the upstream's last byte: null unless the stream ended cleanly, with `[DONE]` and usage. */
  end(): WitnessedStream | null {
    if (!this.events) return null;
    this.take(this.events.push(this.text.decode()));
    // An event left without its closing blank line would swallow the receipt comment written after it.
    if (this.events.buffered > 0 || !this.done || !this.usage) return null;
    return { bodyDigest: this.digest.finish(), usage: this.usage };
  }

  private take(events: readonly SseEvent[]): void {
    for (const { data } of events) {
      if (data === null) continue;
      this.digest.add(data);
      if (data === "[DONE]") this.done = true;
      else if (mayCarryUsage(data)) this.usage = usageOfJson(data) ?? this.usage;
    }
  }
}
