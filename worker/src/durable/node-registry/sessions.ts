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
   * Session `session` says what the node serves: the node is live and reached through it from now on. A URL it
   * proved before is dropped (a node that dials in no longer listens there), and with it the identity it held at that
   * origin. An older session's word never overrides a newer one's. False when the session is no longer the newest.
   */
  applyState(nodeId: string, session: number, state: SessionStateUpdate, bucket: Bucket, now: number): boolean {
    return (
      this.sql.exec(
        `UPDATE nodes SET models = ?, capacity = ?, in_flight = 0, last_heartbeat = ?, session_seq = ?, session_open = 1,
         url = '', origin = NULL, verified_url = NULL, challenge_at = NULL, challenges = 0, hb_level = ?, hb_at = ?
         WHERE id = ? AND session_seq <= ?`,
        JSON.stringify(state.models),
        state.capacity,
        now,
        session,
        bucket.level,
        bucket.at,
        nodeId,
        session,
      ).rowsWritten > 0
    );
  }

  /** The session ended: the node is no longer live (unless a newer session of it is open). */
  close(nodeId: string, session: number, now: number): void {
    this.sql.exec(
      "UPDATE nodes SET session_open = 0, last_heartbeat = ? WHERE id = ? AND session_seq = ? AND session_open = 1",
      now,
      nodeId,
      session,
    );
  }
}
