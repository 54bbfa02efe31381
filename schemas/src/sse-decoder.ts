// Server-sent events as a pure, line-fed state machine (like openai-node's decoder): feed text as it arrives, get
// back whole events together with their exact source text, so a caller can forward or drop each one byte-for-byte.

export interface SseEvent {
  /** Joined `data:` lines; null for events without data (comments, keep-alives). */
  data: string | null;
  /** The event exactly as received, including its terminating blank line. */
  raw: string;
}

export class SseDecoder {
  private pending = "";

  /** Returns the events completed by `text`; a trailing partial event is kept for the next call. */
  push(text: string): SseEvent[] {
    this.pending += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = findEventEnd(this.pending);
      if (end < 0) break;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      events.push(parseEvent(raw));
    }
    return events;
  }

  /** Ends the stream: whatever is left becomes a last event (a server may omit the final blank line). */
  flush(): SseEvent[] {
    const rest = this.pending;
    this.pending = "";
    return rest.trim() ? [parseEvent(rest)] : [];
  }

  get buffered(): number {
    return this.pending.length;
  }
}

/** Index just past the blank line that ends the first event, or -1. Accepts \n, \r\n and \r line ends. */
function findEventEnd(text: string): number {
  const m = /\r\n\r\n|\n\n|\r\r|\n\r\n|\r\n\n/.exec(text);
  return m ? m.index + m[0].length : -1;
}

function parseEvent(raw: string): SseEvent {
  let data: string | null = null;
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (!line.startsWith("data")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== "data") continue;
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    data = data === null ? value : `${data}\n${value}`;
  }
  return { data, raw };
}
