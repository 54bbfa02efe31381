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

/** What every opening writes, whatever the node: openSession's nonce, and the session object's own records. */
const OPENING: readonly RowWrite[] = [
  { what: "registry: nonce INSERT (claimNonce)", rows: 1, indexRows: 1 },
  { what: "registry: the nonce DELETEd once expired (prune)", rows: 1, indexRows: 1 },
  { what: "session: kv put session, node_id", rows: 2, indexRows: 0 },
  { what: "session: setAlarm (silence alarm)", rows: 1, indexRows: 0 },
];

/**
 * A node the registry knows dials in again (every open after its first): the session offers the node's last accepted
 * state with the upgrade and openSession applies it under the new session number (applyState, which also saves the
 * rate bucket); the state the agent re-sends unchanged is acknowledged by the session alone. One registry call.
 */
export const SESSION_REOPEN: readonly RowWrite[] = [
  ...OPENING,
  { what: "registry: nodes UPDATE (applyState: resumed state, session, bucket)", rows: 1, indexRows: 2 },
];

/**
 * A state that changed (or a session's first): the registry's nodes UPDATE (applyState: models, capacity,
 * last_heartbeat, origin, bucket), and the session keeps it as the node's last accepted state. One registry call.
 */
export const SESSION_STATE: readonly RowWrite[] = [
  { what: "registry: nodes UPDATE (applyState)", rows: 1, indexRows: 2 },
  { what: "session: kv put accepted_state", rows: 1, indexRows: 0 },
];

/** A state sent again unchanged (every reconnect's): the session acknowledges it without the registry. */
export const SESSION_STATE_UNCHANGED: readonly RowWrite[] = [];

/**
 * A brand-new node's first connect: openSession inserts it (nothing live yet) and takes a registration token, then its
 * first state goes to the registry (sessionState). Two registry calls.
 */
export const SESSION_FIRST_OPEN: readonly RowWrite[] = [
  ...OPENING,
  { what: "registry: nodes INSERT", rows: 1, indexRows: 4 },
  { what: "registry: registration_sources upsert", rows: 1, indexRows: 0 },
  ...SESSION_STATE,
];

/** The session's close (webSocketClose, or an alarm that finds no socket). */
export const SESSION_CLOSE: readonly RowWrite[] = [{ what: "registry: nodes UPDATE", rows: 1, indexRows: 1 }];

/** One silence alarm of an open session: it re-arms itself and writes nothing else. */
export const SESSION_ALARM: readonly RowWrite[] = [{ what: "session: setAlarm", rows: 1, indexRows: 0 }];

/**
 * Calls from a node's session object to the registry, per event, read off the same code: what the harness's measured
 * counts are checked against.
 */
export const REGISTRY_CALLS = {
  /** openSession, then sessionState for the first state. */
  firstConnect: 2,
  /** openSession with the resumed state; the unchanged state re-sent is not passed on. */
  reconnect: 1,
  changedState: 1,
  unchangedState: 0,
  /** sessionClosed, when no newer socket of the node is open by then. */
  close: 1,
  alarm: 0,
} as const;

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
