// Signs the receipt of one answer the node served, with the node's current key. A receipt is made only when every
// field is valid: a request the receipt schema cannot describe gets none rather than a wrong one. (It is logged once
// it has been delivered: see ProxyOptions.onReceiptDelivered.)
import { encodeReceipt, FREE, receiptBytes, ReceiptSchema, type Price, type TokenCount } from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";

/** What the node knows about an answer once its last byte is in. */
export interface AnsweredRequest {
  /** The gateway's `x-request-id`. */
  requestId: string;
  /** The `model` of the request body. */
  model: string;
  /** As the upstream reported it. */
  usage: TokenCount;
  /** bodyDigest() of a whole answer, StreamDigest of a stream. */
  bodyDigest: string;
  /** The node the gateway addressed (`meshgate-node`), for an issuer that stands in for several nodes (test fleets). */
  addressee: string | null;
}

export interface ReceiptIssuer {
  /** The receipt's wire form (encodeReceipt), or null when no valid receipt describes the answer. */
  issue(answer: AnsweredRequest): Promise<string | null>;
}

export interface ReceiptSignerOptions {
  /** The identity signing right now (it changes when the key is rotated). */
  identity: () => NodeIdentity;
  /** The prices the node advertises, by model; other models are free. */
  prices: ReadonlyMap<string, Price>;
  now?: () => number;
}

export class ReceiptSigner implements ReceiptIssuer {
  constructor(private readonly options: ReceiptSignerOptions) {}

  async issue(answer: AnsweredRequest): Promise<string | null> {
    const identity = this.options.identity();
    const parsed = ReceiptSchema.safeParse({
      request_id: answer.requestId,
      node_id: identity.nodeId,
      model: answer.model,
      prompt_tokens: answer.usage.prompt_tokens,
      completion_tokens: answer.usage.completion_tokens,
      price: this.options.prices.get(answer.model) ?? FREE,
      body_digest: answer.bodyDigest,
      created: (this.options.now ?? Date.now)(),
    });
    if (!parsed.success) return null;
    const bytes = receiptBytes(parsed.data);
    return encodeReceipt(bytes, await identity.signer.sign(bytes));
  }
}
