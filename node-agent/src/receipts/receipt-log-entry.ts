// One line of the receipt log: the signed receipt in wire form plus its numbers, readable without decoding it.
// Never any prompt or completion text.
import { decodeReceipt, nodeAmount } from "@meshgate/schemas";
import { z } from "zod";

export const ReceiptLogEntrySchema = z.object({
  receipt: z.string(),
  request_id: z.string(),
  model: z.string(),
  prompt_tokens: z.int().min(0),
  completion_tokens: z.int().min(0),
  /** What the node is owed for it, micro-units: nodeAmount(tokens, price). */
  amount: z.int().min(0),
  created: z.int().min(0),
});
export type ReceiptLogEntry = z.infer<typeof ReceiptLogEntrySchema>;

/** The log line of a receipt in wire form; null for one that does not decode (the signer never makes those). */
export function receiptLogEntry(token: string): ReceiptLogEntry | null {
  const r = decodeReceipt(token)?.receipt;
  if (!r) return null;
  return {
    receipt: token,
    request_id: r.request_id,
    model: r.model,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    amount: nodeAmount(r, r.price),
    created: r.created,
  };
}
