// Relays an upstream's streamed 200 answer chunk by chunk as it comes, and ends it with the node's signed receipt as
// a last SSE comment: after `[DONE]` when the upstream finished, or, when the gateway stopped the answer (its client
// left), right after the last event relayed, for the part that was relayed.
import type { IncomingMessage, ServerResponse } from "node:http";
import { RECEIPT_COMMENT_PREFIX, type TokenCount } from "@meshgate/schemas";
import { StreamWitness, type PartialStream } from "../receipts/stream-witness.js";
import { pickHeaders } from "./answer-headers.js";
import type { ReceiptContext } from "./receipted-relay.js";

export interface StreamReceiptContext extends ReceiptContext {
  /** Destroys the upstream request, so the inference server stops generating. */
  stopUpstream(): void;
  /** Prompt tokens estimated from the request, for a stopped answer whose server reported no usage. */
  estimatePromptTokens(): number;
}

export interface RelayedStream {
  /**
   * Stops the answer now: destroys the upstream request, ends the relayed stream on an event boundary and, when a
   * receipt can be made, with the receipt of what was relayed (no `[DONE]`: the answer did not finish). False when
   * the answer is no longer being relayed (the upstream finished it, or the gateway left).
   */
  stop(): boolean;
}

export function relayStream(answer: IncomingMessage, res: ServerResponse, ctx: StreamReceiptContext): RelayedStream {
  const headers = pickHeaders(answer.headers);
  // The receipt comment is sent after the upstream's bytes: a length the upstream declared would not cover it.
  delete headers["content-length"];
  res.writeHead(200, headers);
  // Sent now, as the upstream did: the gateway times the node's first byte by these headers.
  res.flushHeaders();
  const witness = new StreamWitness(ctx.dialect);
  let state: "relaying" | "finishing" | "stopped" = "relaying";
  // A stopped answer's upstream is destroyed on purpose: its stream is ended here, not broken off.
  answer.on("error", () => {
    if (state !== "stopped") res.destroy();
  });
  answer.once("close", () => {
    if (!answer.complete && state !== "stopped") res.destroy();
  });
  // pipe() writes each chunk to the socket as it arrives; the witness sees the same chunk after it was written.
  answer.pipe(res, { end: false });
  answer.on("data", (chunk: Buffer) => {
    if (state === "relaying") witness.push(chunk);
  });
  answer.once("end", () => {
    if (state !== "relaying") return;
    state = "finishing";
    void finishStream(answer, res, witness, ctx).catch(() => res.destroy());
  });
  return {
    stop: () => {
      if (state !== "relaying" || res.destroyed) return false;
      state = "stopped";
      // Nothing the upstream sent after this point reaches the gateway or the witness: both saw the same bytes.
      answer.unpipe(res);
      ctx.stopUpstream();
      const { closer, seen } = witness.stop();
      if (closer) res.write(closer);
      void finishStopped(res, seen, ctx).catch(() => res.destroy());
      return true;
    },
  };
}

async function finishStream(
  answer: IncomingMessage,
  res: ServerResponse,
  witness: StreamWitness,
  ctx: ReceiptContext,
): Promise<void> {
  const seen = answer.complete && !res.destroyed ? witness.end() : null;
  const receipt = seen ? await ctx.issue(seen.usage, seen.bodyDigest) : null;
  endWithReceipt(res, receipt, ctx);
}

async function finishStopped(
  res: ServerResponse,
  seen: PartialStream | null,
  ctx: StreamReceiptContext,
): Promise<void> {
  const receipt = seen ? await ctx.issue(partialUsage(seen, ctx), seen.bodyDigest) : null;
  endWithReceipt(res, receipt, ctx);
}

/** The usage the upstream last reported while streaming; else the tokens relayed, on the estimated prompt. */
function partialUsage(seen: PartialStream, ctx: StreamReceiptContext): TokenCount {
  return seen.usage ?? { prompt_tokens: ctx.estimatePromptTokens(), completion_tokens: seen.relayedTokens };
}

function endWithReceipt(res: ServerResponse, receipt: string | null, ctx: ReceiptContext): void {
  if (res.destroyed || res.writableEnded) return;
  if (receipt) res.end(`${RECEIPT_COMMENT_PREFIX}${receipt}\n\n`, () => ctx.delivered(receipt));
  else res.end();
}
