// Sends one relayed answer's body as RESPONSE_BODY frames, within the stream's credit, then RESPONSE_END.
//
// Credit: the node may send STREAM_WINDOW_BYTES beyond what the gateway granted with CREDIT frames. Out of credit, the
// sender holds the rest and asks its producer to pause (which backpressures the agent's proxy, and so the upstream);
// a grant sends what is held and lets the producer go on.
//
// Batching: chunks that arrive within the same macrotask (a burst the upstream wrote at once) go out as one frame,
// flushed from setImmediate, so no chunk waits on a timer. A benchmark may try a longer window (`coalesceMs`).
import { encodeFrame, FrameType, MAX_FRAME_PAYLOAD_BYTES, STREAM_WINDOW_BYTES } from "@meshgate/schemas";

export interface AnswerBodyOptions {
  stream: number;
  /** Sends one encoded frame down the session. */
  send(frame: Uint8Array): void;
  /** Out of credit: stop producing. */
  pause(): void;
  /** Credit again after a pause. */
  resume(): void;
  /** RESPONSE_END went out: the stream is complete. */
  ended(): void;
  /** 0 (the default) flushes at the end of the macrotask; more holds chunks that long to send them together. */
  coalesceMs?: number | undefined;
  /** Bytes sendable before any grant; STREAM_WINDOW_BYTES unless a test says otherwise. */
  windowBytes?: number;
}

export class AnswerBody {
  /** Bytes received and not sent yet: waiting for the flush, or for credit. */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private allowance: number;
  /** Cancels the scheduled flush; null when none is scheduled. */
  private flush: (() => void) | null = null;
  private paused = false;
  private ending = false;
  private done = false;

  constructor(private readonly options: AnswerBodyOptions) {
    this.allowance = options.windowBytes ?? STREAM_WINDOW_BYTES;
  }

  push(chunk: Buffer): void {
    if (this.done || this.ending || chunk.length === 0) return;
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    this.scheduleFlush();
  }

  /** A CREDIT frame: `bytes` more may be sent. */
  grant(bytes: number): void {
    if (this.done) return;
    this.allowance = Math.min(this.allowance + bytes, Number.MAX_SAFE_INTEGER);
    // Held for credit, not for batching: send now.
    if (this.flush === null) this.drain();
  }

  /** The body is complete: RESPONSE_END follows its last byte. */
  end(): void {
    if (this.done) return;
    this.ending = true;
    if (this.flush === null) this.drain();
  }

  /** Sends what the credit allows now and drops the rest: the answer broke and cannot be completed. */
  abandon(): void {
    if (this.done) return;
    this.ending = false;
    this.cancelFlush();
    this.drain();
    this.stop();
  }

  /** Sends nothing more. */
  stop(): void {
    this.done = true;
    this.cancelFlush();
    this.queued = [];
    this.queuedBytes = 0;
  }

  private scheduleFlush(): void {
    if (this.flush !== null) return;
    const coalesceMs = this.options.coalesceMs ?? 0;
    const run = (): void => {
      this.flush = null;
      this.drain();
    };
    if (coalesceMs > 0) {
      const timer = setTimeout(run, coalesceMs);
      this.flush = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(run);
      this.flush = () => clearImmediate(immediate);
    }
  }

  private cancelFlush(): void {
    this.flush?.();
    this.flush = null;
  }

  private drain(): void {
    if (this.done) return;
    while (this.queuedBytes > 0 && this.allowance > 0) {
      const payload = this.take(Math.min(this.queuedBytes, this.allowance, MAX_FRAME_PAYLOAD_BYTES));
      this.allowance -= payload.length;
      this.options.send(encodeFrame(FrameType.responseBody, this.options.stream, payload));
    }
    this.setPaused(this.queuedBytes > 0);
    if (this.queuedBytes > 0) return;
    if (this.ending) {
      this.done = true;
      this.options.send(encodeFrame(FrameType.responseEnd, this.options.stream));
      this.options.ended();
    }
  }

  /** The next `bytes` queued bytes, as one buffer. */
  private take(bytes: number): Buffer {
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < bytes) {
      const head = this.queued[0]!;
      const part = head.length <= bytes - taken ? head : head.subarray(0, bytes - taken);
      if (part === head) this.queued.shift();
      else this.queued[0] = head.subarray(part.length);
      parts.push(part);
      taken += part.length;
    }
    this.queuedBytes -= taken;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.options.pause();
    else this.options.resume();
  }
}
