// A whole answer for a client that did not stream, assembled from the stream the node was asked for: metered exactly
// as a relayed stream is (usage, receipt, the digest of its data payloads, what it carried per choice), and failed
// over like a whole answer if the stream breaks (nothing has reached the client yet).
//
// The stream is read once, from its first byte, by one reader: its first token is found as startStream finds it
// (stream-start.ts), in the events the meter parses anyway, rather than by a reader of its own that is handed over.
import { CHAT_DIALECT, RESPONSES_DIALECT, utf8, type StreamDialect } from "@meshgate/schemas";
import { AnswerAssembler, type AnswerKind } from "../metering/answer-assembler.js";
import { ResponseAssembler } from "../metering/response-assembler.js";
import { OutputTally } from "../metering/output-tally.js";
import { StreamMeter } from "../metering/stream-meter.js";
import type { TokenCounts } from "../metering/usage.js";
import { collect } from "./answer-collect.js";
import { firstTokenOfPayload, MAX_PREAMBLE_BYTES, type FirstEvent } from "./stream-start.js";

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
  /** "responses": the node's own Responses events, assembled into the Response its last event carries. */
  kind: AnswerKind | "responses";
  choices: number;
  /** After the first token: a stream that sends no data event for this long has stalled. */
  stallMs: number;
  /** Called once, when the first token is in: until then the caller's own deadline is the only one. */
  onFirstToken: () => void;
}

type FailedOutcome = "stalled" | "malformed" | "sse_error" | "error";

export type Assembled =
  | { kind: "answer"; answer: AssembledAnswer }
  | { kind: "too_large" }
  /** `started`: the first token had come (a failure before it is the attempt's start failing, as startStream's). */
  | { kind: "failed"; outcome: FailedOutcome; reason: string; started: boolean };

type Failed = Extract<Assembled, { kind: "failed" }>;

/** The first event that decides anything about the stream's start, as firstTokenOf judges events, in order. */
class FirstEventWatch {
  decided: Exclude<FirstEvent, "nothing"> | null = null;

  constructor(private readonly dialect: StreamDialect) {}

  payload(value: unknown, name: string | undefined): void {
    if (this.decided !== null) return;
    const first = firstTokenOfPayload(value, this.dialect, name);
    if (first !== "nothing") this.decided = first;
  }

  /**
   * After a chunk: what decided the start, if anything. [DONE] is the one event the meter does not hand on as a
   * payload:
   * its progress moving with no payload deciding means [DONE] came first.
   */
  judge(meter: StreamMeter, bytes: number): Failed | "token" | null {
    const decided = this.decided ?? (meter.progress > 0 ? "token" : null);
    if (decided === "error")
      return { kind: "failed", outcome: "sse_error", reason: "the stream's first event is an error", started: false };
    if (decided === "malformed")
      return {
        kind: "failed",
        outcome: "malformed",
        reason: "a payload before the first token is not a JSON object",
        started: false,
      };
    if (decided === "token") return "token";
    if (bytes > MAX_PREAMBLE_BYTES)
      return {
        kind: "failed",
        outcome: "malformed",
        reason: `no token in the stream's first ${MAX_PREAMBLE_BYTES} bytes`,
        started: false,
      };
    return null;
  }
}

/** Reads a node's stream from its start and assembles the whole answer. */
export async function assembleAnswer(stream: ReadableStream<Uint8Array>, opts: AssembleOptions): Promise<Assembled> {
  const dialect = opts.kind === "responses" ? RESPONSES_DIALECT : CHAT_DIALECT;
  const assembler = opts.kind === "responses" ? new ResponseAssembler() : new AnswerAssembler(opts.kind, opts.choices);
  const watch = new FirstEventWatch(dialect);
  const meter = new StreamMeter({
    hideUsage: false,
    choices: opts.choices,
    relay: false,
    dialect,
    onPayload: (value, name) => {
      watch.payload(value, name);
      assembler.add(value);
    },
  });
  let startedAt: number | null = null;
  let startFailure: Failed | null = null;
  let total = 0;
  const onBytes = (bytes: Uint8Array): boolean => {
    meter.chunk(bytes);
    total += bytes.byteLength;
    if (startedAt === null) {
      const start = watch.judge(meter, total);
      if (start === "token") {
        startedAt = Date.now();
        opts.onFirstToken();
      } else if (start !== null) startFailure = start;
    }
    return startFailure === null && !meter.overflowed;
  };
  let seen = 0;
  const progressed = (): boolean => {
    const moved = meter.progress !== seen;
    seen = meter.progress;
    return moved;
  };
  // Only events with output are progress (StreamMeter.progress): keep-alives and empty chunks hold nothing open.
  const read = await collect(stream, {
    onBytes,
    limit: MAX_ASSEMBLED_STREAM_BYTES,
    stallMs: opts.stallMs,
    progressed,
    waiting: () => startedAt === null,
    transient: true,
  });
  if (startFailure !== null) return startFailure;
  const started = startedAt !== null;
  if (read.kind === "stalled")
    return { kind: "failed", outcome: "stalled", reason: `no event for ${opts.stallMs} ms`, started };
  if (read.kind === "broken") return { kind: "failed", outcome: "error", reason: read.reason, started };
  if (read.kind === "too_large") return { kind: "too_large" };
  if (read.kind !== "done")
    return { kind: "failed", outcome: "malformed", reason: "an event passed the size bound", started };
  if (startedAt === null)
    return { kind: "failed", outcome: "malformed", reason: "the stream ended before its first token", started };
  return finish(meter, assembler, startedAt);
}

/**
 * What a client that did not stream gets of a Responses answer: the Response its last event carries, never the deltas
 * before it (a node could stream text there and leave it out of the Response, and be paid for what no one received).
 */
function responseTally(response: unknown, choices: number): OutputTally {
  const tally = new OutputTally(choices);
  tally.addOutputs(RESPONSES_DIALECT.outputs(response));
  return tally;
}

/** The stream has ended: the answer, or why the stream was not one. */
function finish(meter: StreamMeter, assembler: AnswerAssembler | ResponseAssembler, startedAt: number): Assembled {
  const failed = (outcome: FailedOutcome, reason: string): Failed => ({
    kind: "failed",
    outcome,
    reason,
    started: true,
  });
  meter.end();
  if (meter.sseError || assembler.error) return failed("sse_error", "the stream carried an error");
  if (meter.malformed) return failed("malformed", "the stream carried a payload that is not a JSON object");
  if (!meter.completed) return failed("malformed", "the stream ended without its end ([DONE], response.completed)");
  const result = assembler.result();
  if (result === null) return failed("malformed", "the stream's last event carried no response");
  return {
    kind: "answer",
    answer: {
      bytes: utf8(JSON.stringify(result)),
      usage: meter.usage,
      digest: meter.finishDigest(),
      receipt: meter.receipt,
      relayed: assembler instanceof ResponseAssembler ? responseTally(result, meter.relayed.choices) : meter.relayed,
      durationMs: Date.now() - startedAt,
    },
  };
}
