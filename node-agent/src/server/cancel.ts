// Answers the gateway's request to stop an answer whose client left (POST /meshgate/cancel, signed and addressed like
// a dispatch; checked before this is called). The answer itself ends on its own connection, with the receipt of
// the part that was relayed; this only says whether there was one to stop.
import type { ServerResponse } from "node:http";
import { CancelRequestSchema, type CancelAnswer } from "@meshgate/schemas";
import type { Logger } from "../log.js";
import { sendError } from "./openai-error.js";

/** A cancel's body is `{"request_id": …}` (an id of at most 128 characters); anything much larger is not a cancel. */
export const MAX_CANCEL_BODY_BYTES = 4096;

export interface Cancellable {
  /** Stops the streamed answer to `requestId` being relayed now; false when there is none. */
  cancel(requestId: string): boolean;
}

function parseCancel(body: Uint8Array): { requestId: string } | { code: string; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { code: "invalid_json", message: "The cancel request's body is not JSON." };
  }
  const parsed = CancelRequestSchema.safeParse(value);
  if (!parsed.success)
    return {
      code: "invalid_value",
      message: 'The body is not a cancel request: {"request_id": "<the dispatch\'s x-request-id>"}.',
    };
  return { requestId: parsed.data.request_id };
}

export function answerCancel(body: Uint8Array, res: ServerResponse, answers: Cancellable, log: Logger): void {
  const request = parseCancel(body);
  if (!("requestId" in request)) {
    sendError(res, 400, "invalid_request_error", request.code, request.message);
    return;
  }
  const { requestId } = request;
  if (!answers.cancel(requestId)) {
    sendError(
      res,
      404,
      "not_found_error",
      "not_in_flight",
      "No streamed answer to that request is being relayed by this node.",
    );
    return;
  }
  log("stopped an answer the gateway cancelled", { request_id: requestId });
  const answer: CancelAnswer = { object: "answer.cancel", request_id: requestId };
  const text = JSON.stringify(answer);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}
