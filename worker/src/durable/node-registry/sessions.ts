// The registry's record of node sessions (durable/node-session): which session of a node is newest, whether it is
// open, and what it serves. Sessions tell the registry only when something changes (opened, new state, closed), so
// keep-alives never reach it.
import type { SessionStateUpdate } from "./types.js";
import type { Bucket } from "../../limits/token-bucket.js";

export class SessionRecords {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * A node's first row, made when its first session opens: nothing served and nothing live until its state comes. The
   * id is the key's thumbprint (NodeTrust.checkKey), and the bucket is the new node's (its first message taken).
   */
  insertNode(nodeId: string, keyId: string, publicKey: string, bucket: Bucket, now: number): void {
    this.sql.exec(
      `INSERT INTO nodes (id, keyid, public_key, url, origin, models, capacity, in_flight, last_heartbeat, seq,
       registered, rep_at, hb_level, hb_at) VALUES (?, ?, ?, '', NULL, '[]', 1, 0, ?, 0, ?, ?, ?, ?)`,
      nodeId,
      keyId,
      publicKey,
      now,
      now,
      now,
      bucket.level,
      bucket.at,
    );
  }

  saveBucket(nodeId: string, bucket: Bucket): void {
    this.sql.exec("UPDATE nodes SET hb_level = ?, hb_at = ? WHERE id = ?", bucket.level, bucket.at, nodeId);
  }

  /**
   * Session `session` says what the node serves: the node is live through it from now on. A URL its heartbeats
   * registered (and the proof of it, and the identity it holds at that origin) is kept only when the state names that
   * same URL: the node also answers there, and is still dispatched to there once proven. Otherwise the URL is dropped
   * (a node that only dials in no longer listens there). A session never sets a URL: only heartbeats register one,
   * and only an endpoint proof makes it routable. An older session's word never overrides a newer one's. False when
   * the session is no longer the newest.
   */
  applyState(nodeId: string, session: number, state: SessionStateUpdate, bucket: Bucket, now: number): boolean {
    // The right-hand sides see the row as it was, so each CASE compares the state's URL with the registered one.
    const url = state.url ?? null;
    return (
      this.sql.exec(
        `UPDATE nodes SET models = ?, capacity = ?, in_flight = 0, last_heartbeat = ?, session_seq = ?, session_open = 1,
         url = CASE WHEN ? = url THEN url ELSE '' END,
         origin = CASE WHEN ? = url THEN origin ELSE NULL END,
         verified_url = CASE WHEN ? = url THEN verified_url ELSE NULL END,
         challenge_at = CASE WHEN ? = url THEN challenge_at ELSE NULL END,
         challenges = CASE WHEN ? = url THEN challenges ELSE 0 END,
         hb_level = ?, hb_at = ?
         WHERE id = ? AND session_seq <= ?`,
        JSON.stringify(state.models),
        state.capacity,
        now,
        session,
        url,
        url,
        url,
        url,
        url,
        bucket.level,
        bucket.at,
        nodeId,
        session,
      ).rowsWritten > 0
    );
  }

  /**
   * The session ended: the node is no longer live (unless a newer session of it is open). A node with a proven URL
   * stays listed only while its last heartbeat (or accepted state) is within the TTL: its close is no sign of life.
   */
  close(nodeId: string, session: number, now: number): void {
    this.sql.exec(
      `UPDATE nodes SET session_open = 0,
       last_heartbeat = CASE WHEN url <> '' AND verified_url = url THEN last_heartbeat ELSE ? END
       WHERE id = ? AND session_seq = ? AND session_open = 1`,
      now,
      nodeId,
      session,
    );
  }
}
