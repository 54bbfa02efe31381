// A node's signed receipt for one answer it served: what it did (tokens, model), for whom (request id), at what price,
// and a digest of the exact answer. The canonical bytes are defined here once: the agent signs them, the gateway
// checks them, and the settlement's Merkle tree commits to them (leaf = receiptLeaf(bytes)).
import { sha256 as syncSha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { NodeIdSchema, PriceSchema, type Price } from "../heartbeat.js";
import { fromBase64, toBase64, toBase64Url } from "../signing/base64.js";
import { utf8 } from "../signing/bytes.js";

/** Response header that carries the receipt of a whole (non-streamed) answer. */
export const RECEIPT_HEADER = "meshgate-receipt";
/** A stream's receipt is its last event: this SSE comment, after `data: [DONE]`. Clients ignore comments anyway. */
export const RECEIPT_COMMENT_PREFIX = ": meshgate-receipt ";

const RECEIPT_CONTEXT = "meshgate-receipt-v1";

export const ReceiptSchema = z.strictObject({
  request_id: z.string().min(1).max(128),
  node_id: NodeIdSchema,
  model: z.string().min(1).max(256),
  prompt_tokens: z.int().min(0).max(100_000_000),
  completion_tokens: z.int().min(0).max(100_000_000),
  /** The price the node charged, micro-units per million tokens (0 and 0 for a free model). */
  price: PriceSchema,
  /** `sha-256=:<base64>:` of the answer: the body bytes, or for a stream its data payloads (see StreamDigest). */
  body_digest: z.string().regex(/^sha-256=:[A-Za-z0-9+/]{43}=:$/),
  /** Milliseconds since the epoch, by the node's clock, when the answer ended. */
  created: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

/**
 * The bytes a node signs and the Merkle leaf commits to: a JSON array in a fixed order, led by a context string so
 * a receipt signature can never be taken for any other statement. JSON.stringify of strings and integers is
 * deterministic, so every implementation produces the same bytes.
 */
export function receiptBytes(r: Receipt): Uint8Array {
  return utf8(
    JSON.stringify([
      RECEIPT_CONTEXT,
      r.request_id,
      r.node_id,
      r.model,
      r.prompt_tokens,
      r.completion_tokens,
      r.price.prompt,
      r.price.completion,
      r.body_digest,
      r.created,
    ]),
  );
}

/** Parses canonical receipt bytes back; null unless they are exactly what receiptBytes() makes of a valid receipt. */
export function parseReceiptBytes(bytes: Uint8Array): Receipt | null {
  let fields: unknown;
  try {
    fields = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 10 || fields[0] !== RECEIPT_CONTEXT) return null;
  const receipt = receiptOfFields(fields);
  if (receipt === null) return null;
  // Only the canonical encoding is a receipt: no extra whitespace, no alternative number spellings.
  const canonical = receiptBytes(receipt);
  if (canonical.length !== bytes.length || canonical.some((b, i) => b !== bytes[i])) return null;
  return receipt;
}

const NODE_ID = /^[A-Za-z0-9_-]{43}$/;
const BODY_DIGEST = /^sha-256=:[A-Za-z0-9+/]{43}=:$/;
const MAX_TOKENS = 100_000_000;
const MAX_PRICE = 1e12;

const boundedText = (v: unknown, max: number): v is string => typeof v === "string" && v.length >= 1 && v.length <= max;
const wholeUpTo = (v: unknown, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;

/**
 * ReceiptSchema's checks written out for the canonical array's fields (receipt.test.ts holds them to the schema on
 * arbitrary input): every receipt is checked on the request path and again by the account that files it, and the
 * schema's generic parse was most of the cost of decoding one.
 */
export function receiptOfFields(fields: readonly unknown[]): Receipt | null {
  const [, request_id, node_id, model, prompt_tokens, completion_tokens, prompt, completion, body_digest, created] =
    fields;
  if (
    !boundedText(request_id, 128) ||
    typeof node_id !== "string" ||
    !NODE_ID.test(node_id) ||
    !boundedText(model, 256)
  )
    return null;
  if (
    !wholeUpTo(prompt_tokens, MAX_TOKENS) ||
    !wholeUpTo(completion_tokens, MAX_TOKENS) ||
    !wholeUpTo(prompt, MAX_PRICE) ||
    !wholeUpTo(completion, MAX_PRICE)
  )
    return null;
  if (typeof body_digest !== "string" || !BODY_DIGEST.test(body_digest) || !wholeUpTo(created, Number.MAX_SAFE_INTEGER))
    return null;
  return {
    request_id,
    node_id,
    model,
    prompt_tokens,
    completion_tokens,
    price: { prompt, completion },
    body_digest,
    created,
  };
}

export interface SignedReceipt {
  receipt: Receipt;
  bytes: Uint8Array;
  signature: Uint8Array;
}

/** Wire form: base64url(canonical bytes) "." base64url(signature). */
export function encodeReceipt(bytes: Uint8Array, signature: Uint8Array): string {
  return `${toBase64Url(bytes)}.${toBase64Url(signature)}`;
}

/** Null for anything that is not a well-formed receipt; the signature is not checked here. */
export function decodeReceipt(token: string): SignedReceipt | null {
  if (token.length > 4096) return null;
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const bytes = fromBase64(token.slice(0, dot));
  const signature = fromBase64(token.slice(dot + 1));
  if (!bytes || !signature || signature.length !== 64) return null;
  const receipt = parseReceiptBytes(bytes);
  return receipt ? { receipt, bytes, signature } : null;
}

/**
 * Merkle leaf of a receipt: sha256(sha256(bytes)). Hashing twice (as OpenZeppelin's StandardMerkleTree does) keeps a
 * 64-byte inner node from ever passing for a leaf.
 */
export function receiptLeaf(bytes: Uint8Array): Uint8Array {
  return syncSha256(syncSha256(bytes));
}

export function digestText(hash: Uint8Array): string {
  return `sha-256=:${toBase64(hash)}:`;
}

/** Digest of a whole answer: its body bytes exactly. */
export function bodyDigest(body: Uint8Array): string {
  return digestText(syncSha256(body));
}

/**
 * Digest of a streamed answer: every `data:` payload in order (including `[DONE]`), each followed by "\n". Over the
 * payloads rather than the bytes, so chunking, line endings and comments (keep-alives, the receipt itself) don't
 * change it, and the gateway's own rewriting (hiding usage) happens after it.
 */
export class StreamDigest {
  private readonly hash = syncSha256.create();
  private readonly newline = utf8("\n");

  add(data: string): void {
    this.hash.update(utf8(data));
    this.hash.update(this.newline);
  }

  finish(): string {
    return digestText(this.hash.digest());
  }
}

export type { Price };
