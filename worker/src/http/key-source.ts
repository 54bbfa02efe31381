// What the isolate's key cache calls in the Worker: the key index, and this isolate's replica of the key-changes feed
// read through the colo's cache (a colo's isolates share one read a second).
import { fnv1a } from "../lib/fnv1a.js";
import { lookupKey } from "../durable/api-keys/key-index.js";
import { KEY_CHANGE_REPLICAS, keyChanges } from "../durable/names.js";
import type { ChangesRead } from "../keys/changes-json.js";
import { FEED_INTERVAL_MS, type KeySource } from "../keys/key-cache.js";

/** The cache key of a replica's read; any URL of ours works, it never leaves the colo. */
const feedUrl = (replica: number) => `https://meshgate.internal/keys/changes/${replica}`;

async function readChanges(env: Env, replica: number, now: number): Promise<ChangesRead> {
  const cache = await caches.open("meshgate-keys");
  const url = feedUrl(replica);
  const cached = await cache.match(url);
  if (cached) return (await cached.json()) as ChangesRead;
  // Stamped before the call: the read reflects every change published before this instant.
  const read: ChangesRead = { ...(await keyChanges(env, replica).read(now)), readAt: now };
  await cache.put(url, Response.json(read, { headers: { "cache-control": `max-age=${FEED_INTERVAL_MS / 1000}` } }));
  return read;
}

/** The isolate's source, which also learns the isolate's colo (its replica of the feed). */
export interface EnvKeySource extends KeySource {
  /** The colo serving this isolate (`request.cf.colo`), which fixes the replica it reads on first sight. */
  noteColo(colo: unknown): void;
}

/**
 * The source for `env`; `current` lets the one default cache follow the isolate's env object. The replica read is
 * the colo's, so a colo's isolates share one read a second through the colo's cache and each replica hears about
 * colos / KEY_CHANGE_REPLICAS reads a second. Replicas number their changes independently, so an isolate keeps to one.
 * Random when no colo is known (randomness is not allowed at a Worker's top level, hence chosen on first use).
 */
export function envKeySource(current: () => Env): EnvKeySource {
  let replica: number | null = null;
  return {
    lookup: (hash, claimedId) => lookupKey(current(), hash, claimedId),
    readChanges: (now) => {
      replica ??= Math.floor(Math.random() * KEY_CHANGE_REPLICAS);
      return readChanges(current(), replica, now);
    },
    noteColo(colo) {
      if (replica === null && typeof colo === "string" && colo !== "") replica = fnv1a(colo) % KEY_CHANGE_REPLICAS;
    },
  };
}
