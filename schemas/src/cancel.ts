// Stopping an answer whose client left: the gateway POSTs a signed, node-addressed request naming the answer's
// request id. The node stops its inference server and ends the stream with a receipt for the part it relayed, so the
// work stops and what was produced is paid for. Signed like a dispatch, so nobody but the gateway can stop an answer.
import { z } from "zod";

export const CANCEL_PATH = "/meshgate/cancel";

export const CancelRequestSchema = z.strictObject({
  /** The `x-request-id` of the dispatch to stop. */
  request_id: z.string().min(1).max(128),
});
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** 200: the answer was being relayed and is being ended now (its receipt follows on the answer's own connection). */
export const CancelAnswerSchema = z.object({
  object: z.literal("answer.cancel"),
  request_id: z.string(),
});
export type CancelAnswer = z.infer<typeof CancelAnswerSchema>;
