// Server-sent events as a pure, line-fed state machine (like openai-node's decoder): feed text as it arrives, get
// back whole events together with their exact source text, so a caller can forward or drop each one byte-for-byte.
// Linear and bounded: each piece of text is scanned once (a terminator split across pieces is found from the last
// three characters kept back), and an event longer than `maxEventLength` is dropped and reported, not buffered.

export interface SseEvent {
  /** Joined `data:` lines; null for events without data (comments, keep-alives). */
  data: string | null;
  /** The event exactly as received, including its terminating blank line. */
  raw: string;
  /** Its `event:` field (the last one), when it names one: SDKs read some named events apart (Assistants' thread.*). */
  event?: string;
}

/**
 * Longest event held by default: a chunk with 20 top logprobs per token, or a whole tool call's arguments sent at
 * once, is tens of KiB; an event of a MiB is a node that never ends one.
 */
export const MAX_SSE_EVENT_LENGTH = 1024 * 1024;

/**
 * Any of the blank lines that end an event, for \n, \r\n and \r line ends in any mix (WHATWG: a CR alone ends a line
 * too, as clients' decoders read it). A CR that may be the first half of a CRLF ends an event only once the next
 * character is known. Never longer than 4 characters.
 */
const EVENT_END = /\r\n\r\n|\n\n|\r\r|\n\r\n|\r\n\n|\r\n\r(?=[^\n])|\n\r(?=[^\n])/g;
const LONGEST_END = 4;

export class SseDecoder {
  /** The unfinished event, in the pieces it arrived in (joined once, when it ends). */
  private parts: string[] = [];
  private length = 0;
  /** The last characters held (at most LONGEST_END - 1): kept as they come, so no piece size makes a push costly. */
  private held = "";
  private overflow = false;

  constructor(private readonly maxEventLength = MAX_SSE_EVENT_LENGTH) {}

  /**
   * Returns the events completed by `text`; a trailing partial event is kept for the next call. Once an event grows
   * past the bound, it and everything after it are dropped and `overflowed` is true.
   */
  push(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let rest = text;
    while (!this.overflow && rest.length > 0) {
      const carry = this.tail();
      EVENT_END.lastIndex = 0;
      const match = EVENT_END.exec(carry.length > 0 ? carry + rest : rest);
      if (!match) {
        this.hold(rest);
        break;
      }
      // The held text had no end in it, so this one ends inside `rest` (or where `rest` begins, when only its first
      // character was needed to know that a held CR ended a line).
      const endInRest = match.index + match[0].length - carry.length;
      this.parts.push(rest.slice(0, endInRest));
      events.push(parseEvent(this.take()));
      rest = rest.slice(endInRest);
    }
    return events;
  }

  /** Ends the stream: whatever is left becomes a last event (a server may omit the final blank line). */
  flush(): SseEvent[] {
    if (this.overflow) return [];
    const rest = this.take();
    return rest.trim() ? [parseEvent(rest)] : [];
  }

  /** Characters held in the unfinished event. */
  get buffered(): number {
    return this.length;
  }

  /** An event grew longer than the bound: the stream cannot be read on. */
  get overflowed(): boolean {
    return this.overflow;
  }

  private hold(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    this.held = (this.held + text).slice(-(LONGEST_END - 1));
    if (this.length > this.maxEventLength) {
      this.overflow = true;
      this.parts = [];
      this.length = 0;
      this.held = "";
    }
  }

  private take(): string {
    const text = this.parts.length === 1 ? (this.parts[0] ?? "") : this.parts.join("");
    this.parts = [];
    this.length = 0;
    this.held = "";
    return text;
  }

  /** The last characters held, enough to complete an event end that a new piece finishes. */
  private tail(): string {
    return this.held;
  }
}

function parseEvent(raw: string): SseEvent {
  // Most events are one `data:` line: take it without splitting.
  if (raw.startsWith("data: ")) {
    const end = firstLineEnd(raw);
    if (isBlankFrom(raw, end)) return { data: raw.slice(6, end), raw };
  }
  let data: string | null = null;
  let event: string | null = null;
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (!line.startsWith("data") && !line.startsWith("event")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data = data === null ? value : `${data}\n${value}`;
  }
  return event === null ? { data, raw } : { data, raw, event };
}

function firstLineEnd(text: string): number {
  const n = text.indexOf("\n");
  const r = text.indexOf("\r");
  if (n < 0) return r < 0 ? text.length : r;
  return r < 0 ? n : Math.min(n, r);
}

/** Only line ends from `from` on: the event has no further lines. */
function isBlankFrom(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) return false;
  }
  return true;
}
