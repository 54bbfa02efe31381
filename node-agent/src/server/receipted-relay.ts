// Relays an upstream's whole (non-streamed) 200 answer with the node's signed receipt: the answer is read first, its
// receipt goes in a header. (Streams: receipted-stream.ts.)
import type { IncomingMessage, ServerResponse } from "node:http";
import { RECEIPT_HEADER, type StreamDialect, type TokenCount } from "@meshgate/schemas";
import { wholeBodyDigest } from "../receipts/digest.js";
import { usageOfJson } from "../receipts/usage.js";
import { pickHeaders } from "./answer-headers.js";
import { sendError } from "./openai-error.js";
import { BodyTooLargeError, readBody } from "./read-body.js";

/** A whole answer is held in memory for its receipt; past this size the node refuses it instead. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface ReceiptContext {
  /** Signs the receipt for this request; null when none can be made (e.g. the request named no model). */
  issue(usage: TokenCount, digest: string): Promise<string | null>;
  /** The upstream broke off its answer or sent one too large to hold. */
  onUpstreamError(err: Error): void;
  /** The answer and its receipt were handed to the socket whole. */
  delivered(receipt: string): void;
  /** How the answer is read: chat (and completions, embeddings), or the Responses API's. */
  dialect: StreamDialect;
}

export async function relayWholeAnswer(
  answer: IncomingMessage,
  res: ServerResponse,
  ctx: ReceiptContext,
  limit = MAX_ANSWER_BYTES,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(answer, limit);
  } catch (err) {
    // The gateway left while the answer was read: nobody to tell.
    if (res.destroyed) return;
    if (err instanceof BodyTooLargeError) {
      answer.destroy();
      ctx.onUpstreamError(new Error(`the answer is larger than the ${limit}-byte limit`));
      return sendError(
        res,
        502,
        "api_error",
        "upstream_answer_too_large",
        `The inference server's answer is larger than the node's limit of ${limit} bytes.`,
      );
    }
    ctx.onUpstreamError(new Error("the inference server broke off its answer"));
    return sendError(res, 502, "api_error", "upstream_failed", "The node's inference server broke off its answer.");
  }
  // The gateway left while the answer was read: there is no one to receipt it to.
  if (res.destroyed) return;
  const usage = usageOfJson(body.toString("utf8"), ctx.dialect);
  const receipt = usage ? await ctx.issue(usage, wholeBodyDigest(body)) : null;
  if (res.destroyed) return;
  const headers = pickHeaders(answer.headers);
  headers["content-length"] = String(body.length);
  if (receipt) headers[RECEIPT_HEADER] = receipt;
  res.writeHead(200, headers).end(body, () => receipt && ctx.delivered(receipt));
}
