// What the node registry stores and answers, shared by the Durable Object and the Worker code that calls it.
import type { AdvertisedModel } from "@meshgate/schemas";
import { decay, reputationScore } from "../routing/reputation.js";

/** A node as the request path and the admin API see it. */
export interface RegistryNode {
  id: string;
  keyid: string;
  public_key: string;
  url: string;
  models: AdvertisedModel[];
  capacity: number;
  in_flight: number;
  last_heartbeat: number;
  registered: number;
  latency_ms: number | null;
  reputation: number;
  requests: number;
}

export interface AdminRegistryNode extends RegistryNode {
  live: boolean;
  endpoint_verified: boolean;
  banned: boolean;
  ban_reason: string | null;
}

/** What one isolate observed about one dispatch. */
export interface NodeOutcome {
  nodeId: string;
  ok: boolean;
  /** Time to first byte, when the node answered at all. */
  ttfbMs: number | null;
  at: number;
}

/** A signature the Worker verified: which key made it, and its nonce, remembered until the signature expires. */
export interface VerifiedNodeSignature {
  keyId: string;
  publicKey: string;
  nonce: string;
  /** Milliseconds since the epoch after which the signature is refused anyway, so the nonce can be forgotten. */
  nonceExpiresAt: number;
}

/** Why the registry refused a node's message; the Worker renders it as an OpenAI-shaped error. */
export interface Refusal {
  status: 401 | 403 | 409 | 429;
  code: "unknown_key" | "revoked_key" | "node_banned" | "replayed_nonce" | "replayed_heartbeat" | "rate_limited" | "key_in_use";
  message: string;
  retryAfterSeconds?: number;
}

export type NodeStatus = "active" | "pending_verification";

export type HeartbeatResult =
  | { ok: true; registered: boolean; status: NodeStatus; challenge: boolean }
  | { ok: false; refusal: Refusal };

export interface KeyRotation {
  nodeId: string;
  /** The old key's signature over the request, already verified. */
  signature: VerifiedNodeSignature;
  newKeyId: string;
  newPublicKey: string;
}

export type RotationResult = { ok: true } | { ok: false; refusal: Refusal };

export type NodeRow = {
  id: string;
  keyid: string;
  public_key: string;
  url: string;
  verified_url: string | null;
  challenge_at: number | null;
  challenges: number;
  models: string;
  capacity: number;
  in_flight: number;
  last_heartbeat: number;
  seq: number;
  registered: number;
  lat_ms: number | null;
  lat_at: number | null;
  rep_s: number;
  rep_f: number;
  rep_at: number;
  requests: number;
  banned_at: number | null;
  ban_reason: string | null;
  hb_tokens: number;
  hb_at: number;
};

/** The columns a heartbeat or rotation checks; not the models list, which is most of a row. */
export type TrustRow = Pick<NodeRow, "keyid" | "url" | "verified_url" | "challenge_at" | "challenges" | "seq" | "banned_at" | "ban_reason" | "hb_tokens" | "hb_at">;

export function toRegistryNode(r: NodeRow, now: number): RegistryNode {
  return {
    id: r.id,
    keyid: r.keyid,
    public_key: r.public_key,
    url: r.url,
    models: JSON.parse(r.models) as AdvertisedModel[],
    capacity: r.capacity,
    in_flight: r.in_flight,
    last_heartbeat: r.last_heartbeat,
    registered: r.registered,
    latency_ms: r.lat_ms,
    reputation: reputationScore(decay({ successes: r.rep_s, failures: r.rep_f, at: r.rep_at }, now)),
    requests: r.requests,
  };
}
