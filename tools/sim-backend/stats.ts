// What a simulated backend has been asked to do, so end-to-end tests can check where a gateway sent traffic (and
// what it forwarded) from the backend's side of every hop.
import type { ServerResponse } from "node:http";

export interface SimStats {
  /** Inference requests received (POSTs to a known endpoint), answered or not. */
  requests: number;
  /** Inference requests open now: received and not yet answered in full or abandoned. */
  active: number;
  /** The most inference requests ever open at once, since the start or the last resetPeak(). */
  peakConcurrent: number;
  /** Requests accepted on purpose without ever answering (hang-rate). */
  hung: number;
  /** Requests answered with a simulated 500 (fail-rate). */
  failed: number;
  /** Server-sent events written to every stream so far (each chunk, the usage chunk and `[DONE]`). */
  streamEvents: number;
  /** Streams that ended before their last event because the client went away: its generation stopped there. */
  streamsAbandoned: number;
  /** Top-level keys of the last inference request body, in the order sent; null before the first. */
  lastBodyKeys: string[] | null;
  /** Every top-level body key any inference request carried, sorted: proves a field never reached the backend. */
  bodyKeysSeen: string[];
  /** Inference requests received per path: shows which endpoint a gateway used (e.g. /v1/responses passed through). */
  byPath: Record<string, number>;
}

export class StatsRecorder {
  private requests = 0;
  private active = 0;
  private peak = 0;
  private hung = 0;
  private failed = 0;
  private streamEvents = 0;
  private streamsAbandoned = 0;
  private lastBodyKeys: string[] | null = null;
  private readonly keysSeen = new Set<string>();
  private readonly paths = new Map<string, number>();

  /** Counts a request as open until its response finishes or its connection goes (whichever comes first). */
  opened(res: ServerResponse, path: string): void {
    this.paths.set(path, (this.paths.get(path) ?? 0) + 1);
    this.requests++;
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.active--;
    };
    // 'finish': the last byte is handed to the OS, before any client can see the answer end, so a client that starts
    // a new request on seeing it never finds this one still counted.
    res.once("finish", close);
    res.once("close", close);
  }

  body(keys: string[]): void {
    this.lastBodyKeys = keys;
    for (const key of keys) this.keysSeen.add(key);
  }

  hang(): void {
    this.hung++;
  }

  fail(): void {
    this.failed++;
  }

  streamEvent(): void {
    this.streamEvents++;
  }

  streamAbandoned(): void {
    this.streamsAbandoned++;
  }

  /** Starts peak counting afresh from the requests open now (to measure one phase of a test). */
  resetPeak(): void {
    this.peak = this.active;
  }

  snapshot(): SimStats {
    return {
      requests: this.requests,
      active: this.active,
      peakConcurrent: this.peak,
      hung: this.hung,
      failed: this.failed,
      streamEvents: this.streamEvents,
      streamsAbandoned: this.streamsAbandoned,
      lastBodyKeys: this.lastBodyKeys && [...this.lastBodyKeys],
      bodyKeysSeen: [...this.keysSeen].sort(),
      byPath: Object.fromEntries(this.paths),
    };
  }
}
