// Reads the rest of a node's answer that no client is reading yet: a whole JSON answer, or the stream a non-streamed
// request was asked for and is assembled from. Read once, in batches (the runtime fills a buffer natively and wakes
// this code when it holds at least a second's worth of the node's pace), bounded in size, and given up on when the
// node stops sending.
export type Collected =
  | { kind: "done"; bytes: number }
  | { kind: "too_large" }
  | { kind: "refused" }
  | { kind: "stalled" }
  | { kind: "broken"; reason: string };

export interface CollectOptions {
  /** Each batch of bytes as it comes (the caller keeps what it needs); false to stop reading (refused). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing keeps reading
  onBytes(bytes: Uint8Array): boolean | void;
  /** More than this many bytes in all: refused. */
  limit: number;
  /** No progress for this long: the node stalled. */
  stallMs: number;
  /** Progress, for the stall timer: by default any bytes; a stream's counts only its data events. */
  progressed?: () => boolean;
  /**
   * True while the caller waits on a deadline of its own (a stream's first token): reads then take whatever comes (its
   * time is measured) and the stall timer does not run.
   */
  waiting?: () => boolean;
  /**
   * onBytes is done with each batch when it returns (it keeps no reference to it), so the next batch is read into the
   * same buffer: allocating a buffer per read cost workerd more than reading into it.
   */
  transient?: boolean;
  now?: () => number;
}

/** A batch is at least this much (or the end), and at most BATCH_MAX: a slow node is still seen to progress. */
const BATCH_MIN = 256;
const BATCH_SOFT_MAX = 16 * 1024;
const BATCH_MAX = 64 * 1024;

interface BatchReader {
  read(min: number): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** The caller is done with a batch: its buffer may take the next one. */
  recycle(batch: Uint8Array): void;
  cancel(reason: string): Promise<void>;
}

/** Room for a few batches: a view as large as the biggest batch would be zeroed on every read. */
const bufferSize = (min: number): number => Math.min(BATCH_MAX, Math.max(4 * min, 4096));

/** A byte stream is read natively in batches; any other (a JavaScript stream, in tests) a chunk at a time. */
function batchReader(stream: ReadableStream<Uint8Array>): BatchReader {
  try {
    const byob = stream.getReader({ mode: "byob" });
    let spare: ArrayBuffer | null = null;
    return {
      read: (min) => {
        const size = bufferSize(min);
        const buffer = spare !== null && spare.byteLength >= size ? spare : new ArrayBuffer(size);
        spare = null;
        return byob.readAtLeast(min, new Uint8Array(buffer));
      },
      recycle: (batch) => {
        spare = batch.buffer as ArrayBuffer;
      },
      cancel: (reason) => byob.cancel(reason),
    };
  } catch {
    const reader = stream.getReader();
    return { read: () => reader.read(), recycle: () => {}, cancel: (reason) => reader.cancel(reason) };
  }
}

/**
 * Reads `stream` to its end. The next batch asks for about a second of what the node has sent so far, so a fast node
 * wakes this code a few times an answer and a slow one still shows progress well inside `stallMs`.
 */
export async function collect(stream: ReadableStream<Uint8Array>, opts: CollectOptions): Promise<Collected> {
  const now = opts.now ?? Date.now;
  const reader = batchReader(stream);
  const startedAt = now();
  let lastProgressAt = startedAt;
  let stalled = false;
  const watchdog = setInterval(
    () => {
      if (opts.waiting?.()) lastProgressAt = now();
      if (now() - lastProgressAt <= opts.stallMs) return;
      stalled = true;
      reader.cancel("the node stalled").catch(() => {});
    },
    Math.max(10, Math.floor(opts.stallMs / 4)),
  );
  let total = 0;
  try {
    for (;;) {
      // A second's worth at the pace so far, judged over at least a second (a first burst is no pace), and never
      // more than has come in all: a node that slows down is still seen to progress well inside `stallMs`.
      const perSecond = (total * 1000) / Math.max(1000, now() - startedAt);
      const min = opts.waiting?.()
        ? 1
        : Math.min(BATCH_SOFT_MAX, total, Math.max(BATCH_MIN, Math.floor(perSecond))) || BATCH_MIN;
      const step = await reader.read(min);
      if (stalled) return { kind: "stalled" };
      if (step.value && step.value.byteLength > 0) {
        total += step.value.byteLength;
        if (total > opts.limit) {
          reader.cancel("the answer is too large").catch(() => {});
          return { kind: "too_large" };
        }
        if (opts.onBytes(step.value) === false) {
          reader.cancel("the answer broke its bounds").catch(() => {});
          return { kind: "refused" };
        }
        if (opts.transient) reader.recycle(step.value);
        if ((opts.progressed?.() ?? true) || opts.waiting?.()) lastProgressAt = now();
      }
      if (step.done) return { kind: "done", bytes: total };
    }
  } catch (err) {
    return stalled ? { kind: "stalled" } : { kind: "broken", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearInterval(watchdog);
  }
}

/** Collects a whole body into one buffer (copied once, at the end). */
export async function collectWhole(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  stallMs: number,
): Promise<{ bytes: Uint8Array } | Exclude<Collected, { kind: "done" }>> {
  const parts: Uint8Array[] = [];
  const result = await collect(stream, { onBytes: (b) => void parts.push(b), limit, stallMs });
  if (result.kind !== "done") return result;
  return { bytes: join(parts, result.bytes) };
}

function join(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
