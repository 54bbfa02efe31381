// Watches a streamed answer go by for what its receipt covers: the digest of the data payloads relayed
// (StreamDigest), the last usage the upstream reported, and the tokens its chunks carried (for an answer stopped
// before its usage came). Verbatim, it holds nothing back: the caller relays the upstream's bytes itself. Hiding
// usage, it also edits the stream (see withoutUsage()), relaying whole events only.
import { chunkTokens, choiceOutputs, SseDecoder, type SseEvent, type TokenCount } from "@meshgate/schemas";
import { NativeStreamDigest } from "./digest.js";
import { mayCarryUsage, usageFrom, withoutUsage } from "./usage.js";

export interface WitnessedStream {
  bodyDigest: string;
  usage: TokenCount;
}

/** What is left once the upstream's last byte came. */
export interface EndedStream {
  /** Text still to relay: hiding usage, an event the upstream left unterminated, as it came ("" otherwise). */
  rest: string;
  /** Null unless the stream ended cleanly, with `[DONE]` and usage: no receipt can describe it. */
  seen: WitnessedStream | null;
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
  /** Text to write after the text relayed so far so that it ends on an event boundary ("" when it already does). */
  closer: string;
  /** Null when the witness had given up on the stream: no receipt can describe it. */
  seen: PartialStream | null;
}

/**
 * The most text (UTF-16 units, so at least as many bytes) held waiting for an event's closing blank line. An answer
 * past it is not SSE the witness can follow, and it would otherwise grow and be rescanned on every chunk: it is no
 * longer witnessed (no receipt), while the relay goes on untouched (hiding usage: verbatim from there on).
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
  /** Hiding usage: the text of the unfinished event, not relayed yet (the decoder drops it if it grows too long). */
  private unsent = "";

  /**
   * `hideUsage`: the agent asked the upstream for usage the client did not ask for, and the witness takes it out
   * again; the caller then relays the text push() returns instead of the upstream's bytes.
   */
  constructor(private readonly hideUsage = false) {}

  /**
   * Witnesses the upstream's next chunk. Hiding usage, returns the text to relay for it: the events it completed,
   * edited (an unfinished one waits for its end). Otherwise "": the caller relays the chunk as it is.
   */
  push(chunk: Uint8Array): string {
    if (!this.events) return this.hideUsage ? this.text.decode(chunk, { stream: true }) : "";
    const relayed = this.feed(this.events, this.text.decode(chunk, { stream: true }));
    // The decoder drops an event past its own bound (overflowed); either way, this answer is beyond witnessing.
    if (!this.events.overflowed && this.events.buffered <= MAX_PENDING_EVENT) return relayed;
    this.events = null;
    const unsent = this.unsent;
    this.unsent = "";
    return relayed + unsent;
  }

  /** After the upstream's last byte. */
  end(): EndedStream {
    if (!this.events) return { rest: this.hideUsage ? this.text.decode() : "", seen: null };
    const rest = this.feed(this.events, this.text.decode()) + this.unsent;
    // An event left without its closing blank line would swallow the receipt comment written after it.
    if (this.events.buffered > 0 || this.events.overflowed || !this.done || !this.usage) return { rest, seen: null };
    return { rest, seen: { bodyDigest: this.digest.finish(), usage: this.usage } };
  }

  /** The stream is being stopped after the chunks pushed so far: see closeEvent(). */
  stop(): StoppedStream {
    if (!this.events) return { closer: "\n\n", seen: null };
    // Hiding usage, an unfinished event was never relayed: it is left out, and what was relayed ends on a boundary.
    const closer = this.hideUsage ? "" : this.closeEvent(this.events);
    if (this.events.buffered > 0 && !this.hideUsage) return { closer, seen: null };
    return { closer, seen: { bodyDigest: this.digest.finish(), usage: this.usage, relayedTokens: this.relayedTokens } };
  }

  /**
   * Closes the event the relayed bytes end inside of by witnessing newlines until the decoder holds nothing (at most
   * two: "\n\n" after a line's text, "\n" after its line end), so the closer is exactly what a decoder on the other
   * side needs too: written once more, it would open a new event.
   */
  private closeEvent(events: SseDecoder): string {
    let closer = "";
    while (events.buffered > 0 && closer.length < 2) {
      closer += "\n";
      this.take(events.push(this.text.decode(NEWLINE, { stream: true })));
    }
    return closer;
  }

  /** Witnesses the events `text` completes; hiding usage, returns their relayed text and keeps the rest unsent. */
  private feed(events: SseDecoder, text: string): string {
    const completed = events.push(text);
    const relayed = this.take(completed);
    if (!this.hideUsage) return relayed;
    let consumed = 0;
    for (const { raw } of completed) consumed += raw.length;
    const unsent = this.unsent + text;
    this.unsent = consumed === 0 ? unsent : unsent.slice(consumed);
    return relayed;
  }

  /** Hiding usage, the text relayed for `events`; "" otherwise (nothing is built). */
  private take(events: readonly SseEvent[]): string {
    let relayed = "";
    for (const event of events) {
      const text = this.see(event);
      if (this.hideUsage) relayed += text;
    }
    return relayed;
  }

  /** One event: its data payload as relayed goes into the digest; returns the event's relayed text ("" if dropped). */
  private see({ data, raw }: SseEvent): string {
    if (data === null) return raw;
    let payload: string | null = data;
    if (data === "[DONE]") this.done = true;
    else payload = this.read(data);
    if (payload === null) return "";
    this.digest.add(payload);
    // Unchanged events keep their own form (line ends, other fields); an edited one is a plain `data:` line.
    return payload === data ? raw : `data: ${payload}\n\n`;
  }

  /** Reads a chunk's tokens and usage; returns its payload as relayed: `data` itself, edited, or null (dropped). */
  private read(data: string): string | null {
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return data;
    }
    for (const output of choiceOutputs(chunk)) this.relayedTokens += chunkTokens(output);
    if (!mayCarryUsage(data)) return data;
    const usage = usageFrom(chunk);
    if (!usage) return data;
    this.usage = usage;
    return this.hideUsage ? withoutUsage(chunk as object) : data;
  }
}
