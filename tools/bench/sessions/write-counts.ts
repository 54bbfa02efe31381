// Rows each code path writes, read off the code (worker/src/durable/node-session, node-registry) since nothing outside
// workerd can count them. Counted as Cloudflare bills SQLite: each row a statement inserts, updates or deletes, plus
// one per index whose column the statement writes; a synchronous KV put is a row of the hidden KV table; setAlarm()
// is counted as one row written.

export interface RowWrite {
  /** Where it happens and what it writes. */
  what: string;
  /** Table rows. */
  rows: number;
  /** Index entries on top (nodes: id, keyid, last_heartbeat, origin; nonces: expires). */
  indexRows: number;
}

/** A session opening of a node the registry knows (every open after its first). */
export const SESSION_OPEN: readonly RowWrite[] = [
  { what: "registry: nonce INSERT (claimNonce)", rows: 1, indexRows: 1 },
  { what: "registry: rate bucket UPDATE (saveBucket)", rows: 1, indexRows: 0 },
  { what: "registry: the nonce DELETEd once expired (prune)", rows: 1, indexRows: 1 },
  { what: "session: kv put session, node_id", rows: 2, indexRows: 0 },
  { what: "session: setAlarm (silence alarm)", rows: 1, indexRows: 0 },
];

/** The first opening ever inserts the node instead of updating its bucket, and takes a registration token. */
export const SESSION_FIRST_OPEN_EXTRA: readonly RowWrite[] = [
  { what: "registry: nodes INSERT instead of the bucket UPDATE", rows: 0, indexRows: 4 },
  { what: "registry: registration_sources upsert", rows: 1, indexRows: 0 },
];

/** A state message the registry accepts (applyState: models, capacity, last_heartbeat, origin, bucket). */
export const SESSION_STATE: readonly RowWrite[] = [{ what: "registry: nodes UPDATE", rows: 1, indexRows: 2 }];

/** The session's close (webSocketClose, or an alarm that finds no socket). */
export const SESSION_CLOSE: readonly RowWrite[] = [{ what: "registry: nodes UPDATE", rows: 1, indexRows: 1 }];

/** One silence alarm of an open session: it re-arms itself and writes nothing else. */
export const SESSION_ALARM: readonly RowWrite[] = [{ what: "session: setAlarm", rows: 1, indexRows: 0 }];

/** Today's design: one heartbeat accepted by the registry (NodeRegistry.heartbeat) of a known, proven node. */
export const HEARTBEAT: readonly RowWrite[] = [
  { what: "registry: nonce INSERT", rows: 1, indexRows: 1 },
  { what: "registry: nodes UPDATE (url, origin, last_heartbeat, seq, bucket, ...)", rows: 1, indexRows: 2 },
  { what: "registry: the nonce DELETEd once expired (prune)", rows: 1, indexRows: 1 },
];

export interface RowCount {
  rows: number;
  /** Rows plus index entries: what the cost uses. */
  withIndexes: number;
}

export function rowsWritten(writes: readonly RowWrite[]): RowCount {
  let rows = 0;
  let indexRows = 0;
  for (const w of writes) {
    rows += w.rows;
    indexRows += w.indexRows;
  }
  return { rows, withIndexes: rows + indexRows };
}
