// A whole answer for a client that did not stream, assembled from the stream the node was asked for: metered exactly
// as a relayed stream is (usage, receipt, the digest of its data payloads, what it carried per choice), and failed
// over like a whole answer if the stream breaks (nothing has reached the client yet).
import { utf8 } from "@meshgate/schemas";
import { AnswerAssembler, type AnswerKind } from "../metering/answer-assembler.js";
import type { OutputTally } from "../metering/output-tally.js";
import type { NodeBody } from "../metering/response-meter.js";
import { StreamMeter } from "../metering/stream-meter.js";
import type { TokenCounts } from "../metering/usage.js";
import { collect } from "./answer-collect.js";

/**
 * Stream bytes read for one assembled answer: the stream is metered as it comes and not kept, but what is assembled
 * from it is, parsed (log probabilities and content parts take many times their bytes). 8 MiB is ~35k tokens of plain
 * text; a request whose answer is larger is refused (too_large: its own shape, not the node, made it so) and can
 * ask for a stream.
 */
export const MAX_ASSEMBLED_STREAM_BYTES = 8 * 1024 * 1024;

export interface AssembledAnswer {
  /** The answer's JSON, as the client receives it. */
  bytes: Uint8Array;
  usage: TokenCounts | null;
  /** StreamDigest of the stream's data payloads: what the node's receipt names. */
  digest: Promise<string>;
  receipt: string | null;
  relayed: OutputTally;
  /** From the first token to the end of the stream, ms. */
  durationMs: number;
}

export interface AssembleOptions {
  kind: AnswerKind;
  choices: number;
  stallMs: number;
}

export type Assembled =
  | { kind: "answer"; answer: AssembledAnswer }
  | { kind: "too_large" }
  | { kind: "failed"; outcome: "stalled" | "malformed" | "sse_error" | "error"; reason: string };

/** Reads the rest of a started stream (`start` holds its first token) and assembles the whole answer. */
export async function assembleAnswer(stream: ReadableStream<Uint8Array>, start: NodeBody, opts: AssembleOptions): Promise<Assembled> {
  const startedAt = Date.now();
  const assembler = new AnswerAssembler(opts.kind, opts.choices);
  const meter = new StreamMeter({ hideUsage: false, choices: opts.choices, onPayload: (value) => assembler.add(value) });
  for (const chunk of start.held) meter.chunk(chunk);
  start.reader.releaseLock();
  let seen = meter.progress;
  const progressed = (): boolean => {
    const moved = meter.progress !== seen;
    seen = meter.progress;
    return moved;
  };
  const read = await collect(stream, {
    onBytes: (bytes) => (meter.chunk(bytes), !meter.overflowed),
    limit: MAX_ASSEMBLED_STREAM_BYTES,
    stallMs: opts.stallMs,
    // Only events with output are progress (StreamMeter.progress): keep-alives and empty chunks hold nothing open.
    progressed,
  });
  if (read.kind === "stalled") return { kind: "failed", outcome: "stalled", reason: `no event for ${opts.stallMs} ms` };
  if (read.kind === "broken") return { kind: "failed", outcome: "error", reason: read.reason };
  if (read.kind === "too_large") return { kind: "too_large" };
  if (read.kind !== "done") return { kind: "failed", outcome: "malformed", reason: "an event passed the size bound" };
  meter.end();
  if (meter.sseError || assembler.error) return { kind: "failed", outcome: "sse_error", reason: "the stream carried an error" };
  if (meter.malformed) return { kind: "failed", outcome: "malformed", reason: "the stream carried a payload that is not a JSON object" };
  if (!meter.completed) return { kind: "failed", outcome: "malformed", reason: "the stream ended without [DONE]" };
  return {
    kind: "answer",
    answer: {
      bytes: utf8(JSON.stringify(assembler.result())),
      usage: meter.usage,
      digest: meter.finishDigest(),
      receipt: meter.receipt,
      relayed: meter.relayed,
      durationMs: Date.now() - startedAt,
    },
  };
}
