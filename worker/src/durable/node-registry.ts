import { DurableObject } from "cloudflare:workers";
import { NODE_TTL_MS, type AdvertisedModel, type Heartbeat } from "@meshgate/schemas";
import { groupBy } from "../mesh/batcher.js";
import { updateLatency, type LatencyEstimate } from "../routing/latency.js";
import { decay, recordOutcome, reputationScore, type Reputation } from "../routing/reputation.js";
import { heartbeatRateLimit, takeToken, type TokenBucket } from "../limits/token-bucket.js";
import { REGISTRY_SCHEMA, REGISTRY_SCHEMA_PROBE } from "./node-registry-schema.js";

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
  status: 401 | 403 | 404 | 409 | 429;
  code: "unknown_key" | "revoked_key" | "node_banned" | "replayed_nonce" | "replayed_heartbeat" | "rate_limited" | "key_in_use" | "node_not_found";
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

/**
 * A node whose URL is unproven is challenged after 10 s, then ever more rarely (each challenge is a request the Worker
 * makes to a URL the node chose): 10 s, 20 s, 40 s … at most every 5 minutes, until it proves its URL.
 */
export const CHALLENGE_RETRY_MS = 10_000;
export const CHALLENGE_RETRY_MAX_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 10_000;
/** Nodes that never proved a URL and went silent are forgotten after this long, so such rows cannot pile up. */
export const UNPROVEN_NODE_TTL_MS = 60 * 60_000;

export function challengeDelay(failedChallenges: number): number {
  return Math.min(CHALLENGE_RETRY_MS * 2 ** Math.max(0, failedChallenges - 1), CHALLENGE_RETRY_MAX_MS);
}

type NodeRow = {
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

type TrustRow = Pick<NodeRow, "keyid" | "url" | "verified_url" | "challenge_at" | "challenges" | "seq" | "banned_at" | "ban_reason" | "hb_tokens" | "hb_at">;

/** The node registry: who is live, where, with which key, serving what, how well, and who is banned. */
export class NodeRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private lastPrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    try {
      this.sql.exec(REGISTRY_SCHEMA_PROBE);
    } catch {
      // A registry from before node ids were key thumbprints: its nodes re-register within one heartbeat.
      this.sql.exec("DROP TABLE IF EXISTS nodes");
    }
    this.sql.exec(REGISTRY_SCHEMA);
  }

  /**
   * Registers or refreshes a node after the Worker verified the signature. Checks, in order: the key is the node's
   * current one (or, for a new node, the one its id names), neither the node nor its URL's origin is banned, the nonce
   * is new, the node is within its rate, and the sequence number increases. All in one synchronous step, so atomic.
   */
  heartbeat(hb: Heartbeat, signature: VerifiedNodeSignature, now: number): HeartbeatResult {
    this.prune(now);
    const prev = this.row(hb.node_id);
    const keyRefusal = this.checkKey(hb.node_id, prev, signature.keyId);
    if (keyRefusal) return { ok: false, refusal: keyRefusal };
    if (prev?.banned_at != null) return { ok: false, refusal: banned(prev.ban_reason) };
    if (this.originBanned(hb.url)) return { ok: false, refusal: banned("this URL belongs to a banned node") };
    if (!this.claimNonce(signature)) return { ok: false, refusal: replayedNonce() };
    let bucket: TokenBucket | null = null;
    if (prev) {
      const taken = this.takeToken(prev, now);
      if (!taken.ok) return { ok: false, refusal: taken.refusal };
      bucket = taken.bucket;
      if (hb.seq <= prev.seq) {
        return { ok: false, refusal: { status: 409, code: "replayed_heartbeat", message: `heartbeat sequence ${hb.seq} is not above the last accepted (${prev.seq})` } };
      }
    }
    const models = JSON.stringify(hb.models);
    // A URL is routable only while it is the one proven; any change (even back to an older one) needs a new proof.
    const verifiedUrl = prev && prev.url === hb.url ? prev.verified_url : null;
    const verified = verifiedUrl === hb.url;
    // Challenges back off per node and do not restart when the URL changes, so flapping URLs buy no extra requests.
    const failed = prev?.challenges ?? 0;
    const lastChallenge = prev?.challenge_at ?? null;
    const challenge = !verified && (lastChallenge === null || now - lastChallenge >= challengeDelay(failed));
    const challengeAt = challenge ? now : lastChallenge;
    const challenges = challenge ? failed + 1 : failed;
    if (prev && bucket) {
      this.sql.exec(
        `UPDATE nodes SET url = ?, verified_url = ?, models = ?, capacity = ?, in_flight = ?, last_heartbeat = ?, seq = ?, challenge_at = ?,
         challenges = ?, hb_tokens = ?, hb_at = ? WHERE id = ?`,
        hb.url, verifiedUrl, models, hb.capacity, hb.in_flight, now, hb.seq, challengeAt, challenges, bucket.tokens, bucket.at, hb.node_id,
      );
    } else {
      const full = heartbeatRateLimit(this.env).burst - 1;
      this.sql.exec(
        `INSERT INTO nodes (id, keyid, public_key, url, challenge_at, challenges, models, capacity, in_flight, last_heartbeat, seq, registered,
         rep_at, hb_tokens, hb_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        hb.node_id, signature.keyId, signature.publicKey, hb.url, challengeAt, challenges, models, hb.capacity, hb.in_flight, now, hb.seq, now,
        now, full, now,
      );
    }
    return { ok: true, registered: !prev, status: verified ? "active" : "pending_verification", challenge };
  }

  /** Records that the node answered a challenge at `url` with its current key; false if either changed meanwhile. */
  endpointProven(nodeId: string, url: string, keyId: string): boolean {
    const cursor = this.sql.exec("UPDATE nodes SET verified_url = url, challenges = 0, challenge_at = NULL WHERE id = ? AND url = ? AND keyid = ?", nodeId, url, keyId);
    return cursor.rowsWritten > 0;
  }

  /** Moves a node to a new key. The old key is refused from now on; the node's id, reputation and history stay. */
  rotateKey(rotation: KeyRotation, now: number): RotationResult {
    const { nodeId, signature, newKeyId, newPublicKey } = rotation;
    const prev = this.row(nodeId);
    // A retry of a rotation that was applied but whose answer was lost: the node already has the new key.
    if (prev && prev.keyid === newKeyId && this.keyRetiredFor(signature.keyId, nodeId)) return { ok: true };
    const keyRefusal = this.checkKey(nodeId, prev, signature.keyId);
    if (keyRefusal || !prev) return { ok: false, refusal: keyRefusal ?? unknownKey() };
    if (prev.banned_at !== null) return { ok: false, refusal: banned(prev.ban_reason) };
    if (!this.claimNonce(signature)) return { ok: false, refusal: replayedNonce() };
    // Rotations spend heartbeat tokens: each leaves a retired key behind for good.
    const taken = this.takeToken(prev, now);
    if (!taken.ok) return { ok: false, refusal: taken.refusal };
    if (this.keyKnown(newKeyId)) {
      return { ok: false, refusal: { status: 409, code: "key_in_use", message: "the new key is already, or was once, some node's key" } };
    }
    this.sql.exec("UPDATE nodes SET keyid = ?, public_key = ?, hb_tokens = ?, hb_at = ? WHERE id = ?", newKeyId, newPublicKey, taken.bucket.tokens, taken.bucket.at, nodeId);
    this.sql.exec("INSERT INTO retired_keys (keyid, node_id, retired_at) VALUES (?, ?, ?)", signature.keyId, nodeId, now);
    return { ok: true };
  }

  /** False when no such node is registered. */
  /**
   * Bans the node and the URL origin it proved: an operator with a fresh key cannot bring the same server back.
   * False when no such node is registered.
   */
  ban(nodeId: string, reason: string | null, now: number): boolean {
    const row = this.sql.exec<{ verified_url: string | null }>("SELECT verified_url FROM nodes WHERE id = ?", nodeId).toArray()[0];
    if (!row) return false;
    this.sql.exec("UPDATE nodes SET banned_at = ?, ban_reason = ? WHERE id = ?", now, reason, nodeId);
    const origin = row.verified_url === null ? null : originOf(row.verified_url);
    if (origin) this.sql.exec("INSERT OR REPLACE INTO banned_origins (origin, node_id, banned_at) VALUES (?, ?, ?)", origin, nodeId, now);
    return true;
  }

  unban(nodeId: string): boolean {
    this.sql.exec("DELETE FROM banned_origins WHERE node_id = ?", nodeId);
    return this.sql.exec("UPDATE nodes SET banned_at = NULL, ban_reason = NULL WHERE id = ?", nodeId).rowsWritten > 0;
  }

  /** Nodes that may get traffic: heartbeated within the TTL, proved their URL, not banned. */
  snapshot(now: number): RegistryNode[] {
    const rows = this.sql
      .exec<NodeRow>("SELECT * FROM nodes WHERE last_heartbeat >= ? AND banned_at IS NULL AND verified_url = url ORDER BY id", now - NODE_TTL_MS)
      .toArray();
    return rows.map((r) => toRegistryNode(r, now));
  }

  /** Every node, for the admin API. */
  list(now: number): AdminRegistryNode[] {
    return this.sql.exec<NodeRow>("SELECT * FROM nodes ORDER BY registered, id").toArray().map((r) => ({
      ...toRegistryNode(r, now),
      live: r.last_heartbeat >= now - NODE_TTL_MS,
      endpoint_verified: r.verified_url === r.url,
      banned: r.banned_at !== null,
      ban_reason: r.ban_reason,
    }));
  }

  /** Folds a batch of dispatch outcomes into each node's latency estimate and reputation: one read and one write per node. */
  recordOutcomes(outcomes: NodeOutcome[]): void {
    for (const [nodeId, list] of groupBy(outcomes, (o) => o.nodeId)) {
      const r = this.sql.exec<NodeRow>("SELECT lat_ms, lat_at, rep_s, rep_f, rep_at FROM nodes WHERE id = ?", nodeId).toArray()[0];
      if (!r) continue;
      let latency: LatencyEstimate | null = r.lat_ms === null || r.lat_at === null ? null : { ms: r.lat_ms, at: r.lat_at };
      let rep: Reputation = { successes: r.rep_s, failures: r.rep_f, at: r.rep_at };
      for (const o of list.sort((a, b) => a.at - b.at)) {
        if (o.ttfbMs !== null) latency = updateLatency(latency, o.ttfbMs, o.at);
        rep = recordOutcome(rep, o.ok, o.at);
      }
      this.sql.exec(
        "UPDATE nodes SET lat_ms = ?, lat_at = ?, rep_s = ?, rep_f = ?, rep_at = ?, requests = requests + ? WHERE id = ?",
        latency?.ms ?? null, latency?.at ?? null, rep.successes, rep.failures, rep.at, list.length, nodeId,
      );
    }
  }

  /** The columns a heartbeat or rotation checks; not the models list, which is most of a row. */
  private row(nodeId: string): TrustRow | undefined {
    return this.sql
      .exec<TrustRow>(
        "SELECT keyid, url, verified_url, challenge_at, challenges, seq, banned_at, ban_reason, hb_tokens, hb_at FROM nodes WHERE id = ?",
        nodeId,
      )
      .toArray()[0];
  }

  /**
   * A known node must sign with its current key; a new node's id must be the thumbprint of the key it signs with,
   * and that key must be new. One message for "no such node" and "not its key", so ids cannot be probed.
   */
  private checkKey(nodeId: string, prev: TrustRow | undefined, keyId: string): Refusal | null {
    if (prev && prev.keyid === keyId) return null;
    if (this.keyRetired(keyId)) return { status: 401, code: "revoked_key", message: "this key was rotated out and is no longer accepted" };
    if (prev || nodeId !== keyId) return unknownKey();
    if (this.keyKnown(keyId)) return { status: 409, code: "key_in_use", message: "this key already belongs to another node" };
    return null;
  }

  private keyRetiredFor(keyId: string, nodeId: string): boolean {
    return this.sql.exec("SELECT 1 FROM retired_keys WHERE keyid = ? AND node_id = ?", keyId, nodeId).toArray().length > 0;
  }

  private originBanned(url: string): boolean {
    const origin = originOf(url);
    return origin !== null && this.sql.exec("SELECT 1 FROM banned_origins WHERE origin = ?", origin).toArray().length > 0;
  }

  private takeToken(row: TrustRow, now: number): { ok: true; bucket: TokenBucket } | { ok: false; refusal: Refusal } {
    const taken = takeToken({ tokens: row.hb_tokens, at: row.hb_at }, heartbeatRateLimit(this.env), now);
    if (taken.ok) return taken;
    const retryAfterSeconds = taken.retryAfterSeconds;
    return { ok: false, refusal: { status: 429, code: "rate_limited", message: `too many messages from this node; retry after ${retryAfterSeconds} s`, retryAfterSeconds } };
  }

  /** Forgets expired nonces, and nodes that never proved a URL and have been silent for an hour. */
  private prune(now: number): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.sql.exec("DELETE FROM nonces WHERE expires < ?", now);
    this.sql.exec("DELETE FROM nodes WHERE verified_url IS NULL AND banned_at IS NULL AND last_heartbeat < ?", now - UNPROVEN_NODE_TTL_MS);
  }

  private keyRetired(keyId: string): boolean {
    return this.sql.exec("SELECT 1 FROM retired_keys WHERE keyid = ?", keyId).toArray().length > 0;
  }

  /** A key that is, or was, any node's key or id may not be taken by a rotation. */
  private keyKnown(keyId: string): boolean {
    return this.keyRetired(keyId) || this.sql.exec("SELECT 1 FROM nodes WHERE keyid = ? OR id = ?", keyId, keyId).toArray().length > 0;
  }

  /** Remembers a signature's nonce until the signature expires; false if it was seen before. */
  private claimNonce(signature: VerifiedNodeSignature): boolean {
    const key = `${signature.keyId}:${signature.nonce}`;
    return this.sql.exec("INSERT INTO nonces (id, expires) VALUES (?, ?) ON CONFLICT DO NOTHING", key, signature.nonceExpiresAt).rowsWritten > 0;
  }
}

function toRegistryNode(r: NodeRow, now: number): RegistryNode {
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

function banned(reason: string | null): Refusal {
  return { status: 403, code: "node_banned", message: reason ? `this node is banned: ${reason}` : "this node is banned" };
}

function unknownKey(): Refusal {
  return { status: 401, code: "unknown_key", message: "this key is not the current key of the node named" };
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function replayedNonce(): Refusal {
  return { status: 401, code: "replayed_nonce", message: "this signed message was already received" };
}
