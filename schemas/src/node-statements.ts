// Statements a node signs outside HTTP signatures: a key rotation (signed by the new key, inside a request signed by
// the old one) and a proof that it answers at its public URL. Each starts with its own context line, so a signature
// made for one can never be taken for another, nor for an RFC 9421 signature base (which starts with `"@`).
import { z } from "zod";
import { NodeIdSchema } from "./heartbeat.js";
import { utf8 } from "./signing/bytes.js";
import { Ed25519PublicJwkSchema } from "./signing/jwk.js";

const Base64UrlSchema = (bytes: number) =>
  z
    .string()
    .length(Math.ceil((bytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]+$/, "must be base64url");

/** An Ed25519 signature, base64url without padding. */
export const SignatureTextSchema = Base64UrlSchema(64);
/** A key thumbprint (RFC 7638, SHA-256), base64url. */
export const KeyIdSchema = Base64UrlSchema(32);

// --- Key rotation: POST /v1/nodes/rotate-key, HTTP-signed by the old key ---

export const KEY_ROTATION_PATH = "/v1/nodes/rotate-key";

export const KeyRotationRequestSchema = z.strictObject({
  node_id: NodeIdSchema,
  new_key: Ed25519PublicJwkSchema,
  /** Milliseconds since the epoch, as the node's clock reads it. */
  timestamp: z.int().min(0),
  /** The new key's signature over keyRotationStatement(). */
  new_key_signature: SignatureTextSchema,
});
export type KeyRotationRequest = z.infer<typeof KeyRotationRequestSchema>;

export interface KeyRotationFacts {
  node_id: string;
  old_keyid: string;
  new_keyid: string;
  timestamp: number;
}

/** What the new key signs: that it succeeds the old key for this node. */
export function keyRotationStatement(f: KeyRotationFacts): Uint8Array {
  return utf8(`meshgate-key-rotation-v1\n${f.node_id}\n${f.old_keyid}\n${f.new_keyid}\n${f.timestamp}`);
}

export const KeyRotationAckSchema = z.object({
  object: z.literal("node.key_rotation"),
  node_id: NodeIdSchema,
  keyid: KeyIdSchema,
  previous_keyid: KeyIdSchema,
});
export type KeyRotationAck = z.infer<typeof KeyRotationAckSchema>;

// --- Proof of endpoint: the gateway POSTs a signed challenge to the node's URL; the node signs it back ---

export const ENDPOINT_PROOF_PATH = "/meshgate/endpoint-proof";

export const EndpointChallengeSchema = z.strictObject({
  node_id: NodeIdSchema,
  /** The URL being proven, exactly as the node advertised it. */
  url: z.string().max(2048),
  /** 32 random bytes, base64url. */
  challenge: Base64UrlSchema(32),
});
export type EndpointChallenge = z.infer<typeof EndpointChallengeSchema>;

export const EndpointProofSchema = z.object({
  object: z.literal("endpoint_proof"),
  node_id: NodeIdSchema,
  keyid: KeyIdSchema,
  signature: SignatureTextSchema,
});
export type EndpointProof = z.infer<typeof EndpointProofSchema>;

/** What the node's key signs: that this node answers at this URL, for this challenge. */
export function endpointProofStatement(c: EndpointChallenge): Uint8Array {
  return utf8(`meshgate-endpoint-proof-v1\n${c.node_id}\n${c.url}\n${c.challenge}`);
}
