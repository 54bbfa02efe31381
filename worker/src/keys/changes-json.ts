// The key-changes feed as isolates read it (through the colo's Cache API, which stores bytes).

/** One change: the key `id` was revoked or its limits changed; `seq` grows by one with every change a replica takes. */
export interface KeyChange {
  seq: number;
  id: string;
}

/** A replica's tail: every change it still keeps, from `first` to `head` (first = head + 1 when it keeps none). */
export interface ChangesJson {
  head: number;
  first: number;
  changes: KeyChange[];
}

/** A read of the feed, stamped with when it was asked of the replica (before the call, so never later than the read). */
export interface ChangesRead extends ChangesJson {
  readAt: number;
}
