// The registry's trust records: retired keys, remembered nonces and banned URL origins, over the registry's SQLite.
// Synchronous, so a Durable Object method that uses several of them stays one atomic step.
import { NODE_TTL_MS } from "@meshgate/schemas";
import { identityOrigin } from "../../limits/new-identities.js";
import { fullBucket, retryAfterSeconds, take, type RateLimit } from "../../limits/token-bucket.js";
import type { Refusal, TrustRow, VerifiedNodeSignature } from "./types.js";

/** How many new identities the registry admits: per source address over time, and live proven ones per origin. */
export interface NewIdentityLimits {
  registrations: RateLimit;
  perOrigin: number;
}

const PRUNE_EVERY_MS = 10_000;
/** Nodes that never proved a URL and went silent are forgotten after this long, so such rows cannot pile up. */
export const UNPROVEN_NODE_TTL_MS = 60 * 60_000;

export class NodeTrust {
  private lastPrune = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: NewIdentityLimits,
  ) {}

  /**
   * A known node must sign with its current key; a new node's id must be the thumbprint of the key it signs with,
   * and that key must be new. One message for "no such node" and "not its key", so ids cannot be probed.
   */
  checkKey(nodeId: string, prev: TrustRow | undefined, keyId: string): Refusal | null {
    if (prev && prev.keyid === keyId) return null;
    if (this.keyRetired(keyId))
      return { status: 401, code: "revoked_key", message: "this key was rotated out and is no longer accepted" };
    if (prev || nodeId !== keyId) return unknownKey();
    if (this.keyKnown(keyId))
      return { status: 409, code: "key_in_use", message: "this key already belongs to another node" };
    return null;
  }

  keyRetired(keyId: string): boolean {
    return this.sql.exec("SELECT 1 FROM retired_keys WHERE keyid = ?", keyId).toArray().length > 0;
  }

  keyRetiredFor(keyId: string, nodeId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM retired_keys WHERE keyid = ? AND node_id = ?", keyId, nodeId).toArray().length > 0
    );
  }

  /** A key that is, or was, any node's key or id may not be taken again. */
  keyKnown(keyId: string): boolean {
    return (
      this.keyRetired(keyId) ||
      this.sql.exec("SELECT 1 FROM nodes WHERE keyid = ? OR id = ?", keyId, keyId).toArray().length > 0
    );
  }

  retireKey(keyId: string, nodeId: string, now: number): void {
    this.sql.exec("INSERT INTO retired_keys (keyid, node_id, retired_at) VALUES (?, ?, ?)", keyId, nodeId, now);
  }

  /** Remembers a signature's nonce until the signature expires; false if it was seen before. */
  claimNonce(signature: VerifiedNodeSignature): boolean {
    const key = `${signature.keyId}:${signature.nonce}`;
    return (
      this.sql.exec(
        "INSERT INTO nonces (id, expires) VALUES (?, ?) ON CONFLICT DO NOTHING",
        key,
        signature.nonceExpiresAt,
      ).rowsWritten > 0
    );
  }

  originBanned(url: string): boolean {
    const origin = originOf(url);
    return (
      origin !== null && this.sql.exec("SELECT 1 FROM banned_origins WHERE origin = ?", origin).toArray().length > 0
    );
  }

  banOrigin(url: string, nodeId: string, now: number): void {
    const origin = originOf(url);
    if (origin)
      this.sql.exec(
        "INSERT OR REPLACE INTO banned_origins (origin, node_id, banned_at) VALUES (?, ?, ?)",
        origin,
        nodeId,
        now,
      );
  }

  unbanOrigins(nodeId: string): void {
    this.sql.exec("DELETE FROM banned_origins WHERE node_id = ?", nodeId);
  }

  /**
   * Takes one registration token from the source address's bucket (new-identities.ts); refused with Retry-After when
   * it has none. One row per address that registered lately: a full bucket is the same as none, so prune drops it.
   */
  takeRegistration(source: string, now: number): Refusal | null {
    const limit = this.limits.registrations;
    const row = this.sql
      .exec<{ level: number; at: number }>("SELECT level, at FROM registration_sources WHERE source = ?", source)
      .toArray()[0];
    const taken = take(row ?? fullBucket(limit, now), limit, 1, now);
    if (!taken.ok) {
      // A limit's burst is at least one token, so one always fits in time.
      const seconds = retryAfterSeconds(taken.waitMs ?? 0);
      return {
        status: 429,
        code: "rate_limited",
        message: `too many new nodes registered from this address; retry after ${seconds} s`,
        retryAfterSeconds: seconds,
      };
    }
    this.sql.exec(
      "INSERT INTO registration_sources (source, level, at) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET " +
        "level = excluded.level, at = excluded.at",
      source,
      taken.bucket.level,
      taken.bucket.at,
    );
    return null;
  }

  /**
   * Whether another identity may prove `url`: fewer than the limit of other live nodes have proven a URL at its origin.
   */
  originHasRoom(url: string, nodeId: string, now: number): boolean {
    const origin = identityOrigin(url);
    if (origin === null) return true;
    const { proven } = this.sql
      .exec<{ proven: number }>(
        // A node whose session carries its liveness (heartbeats paused) still holds the identity it proved.
        "SELECT COUNT(*) AS proven FROM nodes WHERE origin = ? AND id != ? AND verified_url = url AND banned_at IS " +
          "NULL AND (last_heartbeat >= ? OR session_open = 1)",
        origin,
        nodeId,
        now - NODE_TTL_MS,
      )
      .one();
    return proven < this.limits.perOrigin;
  }

  originFull(url: string): Refusal {
    const origin = identityOrigin(url) ?? url;
    return {
      status: 409,
      code: "too_many_identities",
      message: `other live nodes have already proven ${this.limits.perOrigin} identities at ${origin}, the most one host and port may hold`,
    };
  }

  /**
   * Forgets expired nonces, full registration buckets, and nodes that never proved a URL nor served through a session
   * and have been silent for an hour; at most every 10 s.
   */
  prune(now: number): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    this.sql.exec("DELETE FROM nonces WHERE expires < ?", now);
    const { refill, periodMs, burst } = this.limits.registrations;
    // Full once refilled to the burst; a product past int64 turns to a float, still far above it.
    this.sql.exec("DELETE FROM registration_sources WHERE level + (? - at) * ? >= ?", now, refill, burst * periodMs);
    // A node that dialled in has no URL to prove: it is kept once it has served, or while its session is open.
    this.sql.exec(
      "DELETE FROM nodes WHERE verified_url IS NULL AND banned_at IS NULL AND session_open = 0 AND requests = 0 " +
        "AND last_heartbeat < ?",
      now - UNPROVEN_NODE_TTL_MS,
    );
  }
}

export function banned(reason: string | null): Refusal {
  return {
    status: 403,
    code: "node_banned",
    message: reason ? `this node is banned: ${reason}` : "this node is banned",
  };
}

export function unknownKey(): Refusal {
  return { status: 401, code: "unknown_key", message: "this key is not the current key of the node named" };
}

export function replayedNonce(): Refusal {
  return { status: 401, code: "replayed_nonce", message: "this signed message was already received" };
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
