// An isolate's cache of API key lookups, kept fresh by the key-changes feed: entries live ENTRY_TTL_MS (few lookups),
// yet a revoked or changed key is dropped within MAX_STALENESS_MS, because an entry is only used while the isolate's
// latest feed read (or the entry's own lookup) is that recent. Pure: it is handed what it calls, and the time.
import type { ChangesRead } from "./changes-json.js";
import { hashApiKey } from "./api-key.js";

/** What authentication learns about a key (durable/api-keys/api-keys.ts's KeyLookup, restated to stay pure). */
export interface CachedIdentity {
  id: string;
  name: string;
  limits: { budget: number | null; rpm: number | null; tpm: number | null };
}

/** What the cache calls: the key index and the key-changes feed (http/key-source.ts in the Worker). */
export interface KeySource {
  /** `claimedId`: the key id a verified new-format token carries; null for a legacy token. */
  lookup(hash: string, claimedId: string | null): Promise<CachedIdentity | null>;
  readChanges(now: number): Promise<ChangesRead>;
}

/** How long a lookup is kept: fewer lookups; revocations do not wait for it (see MAX_STALENESS_MS). */
export const ENTRY_TTL_MS = 60_000;
/** The most an entry may lag the feed: a revoked key is refused everywhere within this. */
export const MAX_STALENESS_MS = 2_000;
/** How often an isolate reads the feed (the colo's cache keeps one read as long). */
export const FEED_INTERVAL_MS = 1_000;
export const MAX_CACHED = 10_000;
/** A feed read unsettled this long is given up on (see readFeedIfDue). */
const READ_ABANDONED_MS = 5_000;

interface Entry {
  identity: CachedIdentity | null;
  /** When the lookup was started: it reflects every change published before. */
  fetchedAt: number;
  hash: string;
  /** The key the entry is about (a negative entry's: the id its token claims). */
  id: string | null;
}

/**
 * `null`: every key (the isolate fell behind the feed and dropped its whole cache). Work it returns (a purse giving
 * back) is part of the feed read, which the runtime keeps alive past the response; a failure of it is the listener's.
 */
export type KeyChangeListener = (keyId: string | null) => unknown;

export class KeyCache {
  /** Keyed by the presented token, so a hit costs no hashing; tokens stay in this isolate's memory only. */
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<KeyChangeListener>();
  /** The feed's last sequence number applied here (null: never read). */
  private since: number | null = null;
  /** When the feed read applied last was taken: every change published before it has been applied. */
  private feedAt = Number.NEGATIVE_INFINITY;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  /** Grows with every drop: a lookup started before one is used once but not cached (it may predate the change). */
  private generation = 0;
  /** Lookups started before this are not trusted (the feed could not say what changed before it). */
  private validFrom = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly source: KeySource,
    private readonly maxCached = MAX_CACHED,
  ) {}

  /**
   * The key of a token that is well-formed and (new format) correctly tagged — checking that is the caller's job, and
   * the only tokens cached negatively are the tagged ones (`claimedId` set).
   */
  async identify(
    token: string,
    claimedId: string | null,
    now: number,
    background: (work: Promise<void>) => void = () => {},
  ): Promise<CachedIdentity | null> {
    const entry = this.entries.get(token);
    const live = entry !== undefined && now - entry.fetchedAt < ENTRY_TTL_MS && entry.fetchedAt >= this.validFrom;
    const read = this.readFeedIfDue(now, background);
    // Awaited only when an entry would otherwise be used stale, and only a read this request started: in workerd, a
    // promise another request started may never settle once that request has ended (its I/O is cancelled), so a stale
    // entry without a read of its own is looked up again instead. Else the read runs beside the request.
    if (live && read !== null && this.staleness(entry, now) > MAX_STALENESS_MS) await read;
    else if (read !== null) background(read);
    const current = this.entries.get(token);
    if (current && this.usable(current, now)) return current.identity;
    return await this.lookUp(token, claimedId, current?.hash, now);
  }

  /** Forgets a key at once (the admin isolate, after changing it); `id` also tells the listeners. */
  forget(hash: string, id: string | null = null): void {
    for (const [token, entry] of this.entries) if (entry.hash === hash) this.entries.delete(token);
    this.generation++;
    // The admin route that changed the key goes on to publish it, which outlasts the listeners' give-back.
    if (id !== null) void Promise.allSettled(this.notify(id));
  }

  /** Called with every key id that changed (null: all of them); returns the unsubscribe. */
  onKeyChange(listener: KeyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether the token has an entry here: it passed the caller's check (its tag) when it was first identified. */
  holds(token: string): boolean {
    return this.entries.has(token);
  }

  private usable(entry: Entry, now: number): boolean {
    return (
      now - entry.fetchedAt < ENTRY_TTL_MS &&
      entry.fetchedAt >= this.validFrom &&
      this.staleness(entry, now) <= MAX_STALENESS_MS
    );
  }

  private staleness(entry: Entry, now: number): number {
    return now - Math.max(entry.fetchedAt, this.feedAt);
  }

  private async lookUp(token: string, claimedId: string | null, known: string | undefined, now: number) {
    const generation = this.generation;
    const hash = known ?? (await hashApiKey(token));
    const identity = await this.source.lookup(hash, claimedId);
    // Negative entries only for tagged tokens: a random legacy-format token must not push real keys out.
    if (generation === this.generation && now >= this.validFrom && (identity || claimedId !== null)) {
      this.entries.delete(token);
      // Oldest out first: a flood of tokens evicts one entry per insert, never the whole cache.
      if (this.entries.size >= this.maxCached) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(token, { identity, fetchedAt: now, hash, id: identity?.id ?? claimedId });
    }
    return identity;
  }

  /**
   * Starts a read of the feed when one is due (at most one a FEED_INTERVAL_MS, one at a time). A read still unsettled
   * after READ_ABANDONED_MS is taken for lost (its request may have ended) and no longer holds the next one back. The
   * listeners' work goes to `background` (kept alive past the response), so no request waits for it.
   */
  private readFeedIfDue(now: number, background: (work: Promise<void>) => void): Promise<void> | null {
    if (now - this.lastAttempt < FEED_INTERVAL_MS) return null;
    if (this.reading && now - this.lastAttempt < READ_ABANDONED_MS) return null;
    this.lastAttempt = now;
    const read = this.source
      .readChanges(now)
      .then((changes) => {
        const work = this.apply(changes);
        if (work.length > 0) background(Promise.allSettled(work).then(() => {}));
      })
      // A failed read leaves feedAt behind: entries past MAX_STALENESS_MS are then looked up again (fail safe).
      .catch((err: unknown) => console.error("reading the key-changes feed failed", String(err)))
      .finally(() => {
        if (this.reading === read) this.reading = null;
      });
    this.reading = read;
    return read;
  }

  /** Applies a read; returns the listeners' work. */
  private apply(read: ChangesRead): Promise<unknown>[] {
    if (read.readAt <= this.feedAt) return [];
    const work: Promise<unknown>[] = [];
    const since = this.since;
    if (since === null || since > read.head || since < read.first - 1) {
      // First read, behind the tail, or a replica that lost its history: what changed before this read is unknown, so
      // only lookups made since it began are trusted.
      this.validFrom = read.readAt;
      for (const [token, entry] of this.entries) if (entry.fetchedAt < read.readAt) this.entries.delete(token);
      if (since !== null) work.push(...this.notify(null));
    } else {
      for (const change of read.changes) if (change.seq > since) work.push(...this.drop(change.id));
    }
    this.since = read.head;
    this.feedAt = read.readAt;
    return work;
  }

  private drop(id: string): Promise<unknown>[] {
    for (const [token, entry] of this.entries) if (entry.id === id) this.entries.delete(token);
    this.generation++;
    return this.notify(id);
  }

  private notify(id: string | null): Promise<unknown>[] {
    const work: Promise<unknown>[] = [];
    for (const listener of this.listeners) {
      const done = listener(id);
      if (done instanceof Promise) work.push(done);
    }
    return work;
  }
}
