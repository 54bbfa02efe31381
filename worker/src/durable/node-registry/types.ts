// What the node registry stores and answers, shared by the Durable Object and the Worker code that calls it.
import type { AdvertisedModel } from "@meshgate/schemas";
import type { NodeState } from "../../routing/node-state.js";
import { decay, reputationScore } from "../../routing/reputation.js";
import { stateFromColumns } from "./routing-state.js";

export type NodeTransportKind = "direct" | "session";

/** A node as the request path and the admin API see it. */
export interface RegistryNode {
  id: string;
  keyid: string;
  public_key: string;
  /** Where a direct node is dialled; "" for a node reached through its session. */
  url: string;
  /** "direct": the gateway dials the node's proven URL; "session": the node dialled in and is sent requests on it. */
  transport: NodeTransportKind;
  models: AdvertisedModel[];
  capacity: number;
  in_flight: number;
  last_heartbeat: number;
  registered: number;
  /** The best time-to-first-token estimate over the node's models; null until measured. */
  latency_ms: number | null;
  /** Expected success rate from the decayed record: 0.5 with none. */
  reputation: number;
  requests: number;
  /** Everything routing has learned about the node. */
  state: NodeState;
  /** The node's last health probe; null until it was probed once. */
  probe: NodeProbe | null;
}

export interface AdminRegistryNode extends RegistryNode {
  live: boolean;
  endpoint_verified: boolean;
  banned: boolean;
  ban_reason: string | null;
}

/** A node the health probes should reach: its id (the probe is addressed to it) and advertised URL. */
export interface ProbeTarget {
  id: string;
  url: string;
}

/** What one health probe found. */
export interface ProbeResult {
  nodeId: string;
  /** Answered 200 with a health answer naming this node, within the timeout. */
  reachable: boolean;
  /** Time until the answer's headers arrived; null when the node did not answer. */
  rttMs: number | null;
  /** When the probe was sent, milliseconds since the epoch. */
  at: number;
}

/** A node's probe record as the registry keeps it. */
export interface NodeProbe {
  reachable: boolean;
  rtt_ms: number | null;
  at: number;
  /** Probes failed in a row since the last one that reached the node. */
  failures: number;
}

/** A signature the Worker verified: which key made it, and its nonce, remembered until the signature expires. */
export interface VerifiedNodeSignature {
  keyId: string;
  publicKey: string;
  nonce: string;
  /** The signature's `created`, in milliseconds since the epoch (the node's clock, within the allowed skew). */
  createdAt: number;
  /** Milliseconds since the epoch after which the signature is refused anyway, so the nonce can be forgotten. */
  nonceExpiresAt: number;
}

/** Why the registry refused a node's message; the Worker renders it as an OpenAI-shaped error. */
export interface Refusal {
  status: 401 | 403 | 409 | 429 | 503;
  code:
    | "unknown_key"
    | "revoked_key"
    | "node_banned"
    | "replayed_nonce"
    | "replayed_heartbeat"
    | "rate_limited"
    | "key_in_use"
    | "too_many_identities"
    | "session_replaced"
    | "session_superseded"
    | "gateway_busy";
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

/** What a node's session tells the registry it serves, once the session checked it (schemas SessionState). */
export interface SessionStateUpdate {
  models: AdvertisedModel[];
  capacity: number;
  /** The public URL the node says it also answers at: its registered URL is kept only if this names it. */
  url?: string | undefined;
}

/**
 * What a node's session last had accepted, offered again when the node reconnects: the registry makes the node live
 * through the new session in the same call, so a reconnect costs the registry one message, not two.
 */
export interface SessionResume {
  session: number;
  state: SessionStateUpdate;
}

/** `live`: the node is live through the new session (its resumed state was applied). */
export type SessionOpenResult = { ok: true; registered: boolean; live: boolean } | { ok: false; refusal: Refusal };
export type SessionStateResult = { ok: true } | { ok: false; refusal: Refusal };

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
  rep_s: number;
  rep_f: number;
  rep_at: number;
  requests: number;
  banned_at: number | null;
  ban_reason: string | null;
  /** The heartbeat bucket (limits/token-bucket.ts), in 1/periodMs of a token. */
  hb_level: number;
  hb_at: number;
  routing: string;
  ejected_until: number;
  /** The node's newest session (durable/node-session); 0 before its first. */
  session_seq: number;
  /** 1 while that session is open: the node is live and reached through it. */
  session_open: number;
};

/** The columns a heartbeat or rotation checks; not the models list, which is most of a row. */
export type TrustRow = Pick<
  NodeRow,
  | "keyid"
  | "url"
  | "verified_url"
  | "challenge_at"
  | "challenges"
  | "seq"
  | "banned_at"
  | "ban_reason"
  | "hb_level"
  | "hb_at"
  | "last_heartbeat"
  | "models"
  | "capacity"
>;

function bestLatency(state: NodeState): number | null {
  const estimates = Object.values(state.perf).flatMap((p) => (p.ttft ? [p.ttft.ms] : []));
  return estimates.length === 0 ? null : Math.min(...estimates);
}

export function toRegistryNode(r: NodeRow, now: number, probe: NodeProbe | null): RegistryNode {
  const state = stateFromColumns(r);
  // A proven URL is dispatched to directly, whether or not a session carries the node's liveness.
  const direct = r.session_open !== 1 || (r.url !== "" && r.verified_url === r.url);
  return {
    id: r.id,
    keyid: r.keyid,
    public_key: r.public_key,
    url: direct ? r.url : "",
    transport: direct ? "direct" : "session",
    models: JSON.parse(r.models) as AdvertisedModel[],
    capacity: r.capacity,
    // A node live through a session sends no load reports (its heartbeats pause): a last heartbeat's count would
    // freeze. What bounds it is the session's count (relayed) or its own capacity refusals (dialled directly).
    in_flight: r.session_open === 1 ? 0 : r.in_flight,
    last_heartbeat: r.last_heartbeat,
    registered: r.registered,
    latency_ms: bestLatency(state),
    reputation: reputationScore(decay(state.reputation, now)),
    requests: r.requests,
    state,
    probe,
  };
}
