// The one place that names and shards the Durable Objects.
import { fnv1a } from "../lib/fnv1a.js";
import { keyShardOf } from "../keys/key-shard.js";

/** All nodes live in one registry: heartbeats and snapshots are small, and one owner keeps sequence checks atomic. */
export function nodeRegistry(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
}

/**
 * One session object per node: the node's WebSocket, keep-alives and relayed requests live there, so no object hears
 * every node. Placed where the node first dials in from (near it).
 */
export function nodeSession(env: Env, nodeId: string) {
  return env.SESSIONS.get(env.SESSIONS.idFromName(`node:${nodeId}`));
}

/**
 * How many admission cells share the nodes (ADMISSION_CELLS, 1–1024; 1 when unset or malformed): every isolate must
 * read the same number, or two cells would grant the same node's slots.
 */
export function admissionCells(env: { ADMISSION_CELLS?: string }): number {
  const n = Number(env.ADMISSION_CELLS ?? "1");
  return Number.isInteger(n) && n >= 1 && n <= 1024 ? n : 1;
}

/** One admission cell: it grants every slot at the nodes cellOf puts in it. */
export function admissionCell(env: Env, cell: number) {
  return env.CELLS.get(env.CELLS.idFromName(`cell:${cell}`));
}

/**
 * The cells' directory. One for now: its readers go through each colo's cache, so it hears about a read per colo every
 * DIRECTORY_TTL_MS (2 s: mesh/cell-view.ts).
 */
export function cellDirectory(env: Env) {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
}

/**
 * The key index: KEY_INDEX_SHARDS objects of the ApiKeys class, a key in the shard of its id (keys/key-shard.ts), so a
 * lookup, a creation or a change asks one shard and no object hears every key's traffic.
 */
export function keyIndexShard(env: Env, shard: number) {
  return env.KEYS.get(env.KEYS.idFromName(`keys:${shard}`));
}

/** The shard holding key `id`. */
export function keyIndexOf(env: Env, id: string) {
  return keyIndexShard(env, keyShardOf(id));
}

/**
 * The index's root: the one object every key lived in before the index (its keys move to the shards,
 * durable/api-keys/legacy-move.ts), and the list of shards that hold keys. Admin calls only, and each isolate's first
 * miss of a legacy-format token.
 */
export function keyIndexRoot(env: Env) {
  return env.KEYS.get(env.KEYS.idFromName("keys"));
}

/**
 * The one global roll-up of usage: hourly sums by key, by model and by node, fed by the admission cells' flushes
 * (one call per cell a second at most), so the admin report reads one object however many keys there are.
 */
export function usageRollup(env: Env) {
  return env.ROLLUP.get(env.ROLLUP.idFromName("rollup"));
}

/**
 * Replicas of the key-changes feed: every change is written to each, and an isolate reads its colo's (by a hash of
 * the colo; at random when none is known: http/key-source.ts), so each replica hears about a quarter of the colos'
 * reads. Writers and readers must agree: a constant.
 */
export const KEY_CHANGE_REPLICAS = 4;

export function keyChanges(env: Env, replica: number) {
  return env.KEY_CHANGES.get(env.KEY_CHANGES.idFromName(`key-changes:${replica}`));
}

/**
 * One account per API key: its budget and rate limits are checked and charged by one serialising owner, its usage
 * written and read in one place, and keys scale out independently. (The name is the old per-key ledger's, whose rows
 * the account keeps.)
 */
export function keyAccount(env: Env, keyId: string) {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(`ledger:${keyId}`));
}

/** Shards before their number was configuration: what every deployment used until then. */
export const LEGACY_EARNINGS_SHARDS = 16;
const DEFAULT_EARNINGS_SHARDS = 64;

/**
 * How many shards receipts are spread over by node id (EARNINGS_SHARDS, 1–1024; 64 when unset or malformed). Each
 * shard hears at most one call per admission cell per flush: size it so ADMISSION_CELLS × flushes a second stays well
 * under a Durable Object's ~1,000 calls a second, and so one shard's part of a close (its receipts of the period, in
 * one transaction) stays small. It may change at any time: a settlement reads every shard any count ever used and
 * first moves each receipt to its node's shard under the current count (see routes/settlements.ts).
 */
export function earningsShards(env: { EARNINGS_SHARDS?: string }): number {
  const n = Number(env.EARNINGS_SHARDS ?? "");
  return Number.isInteger(n) && n >= 1 && n <= 1024 ? n : DEFAULT_EARNINGS_SHARDS;
}

/** FNV-1a of the node id modulo the shard count: stable across deployments while the count stays. */
export function earningsShardOf(nodeId: string, shards: number): number {
  return fnv1a(nodeId) % shards;
}

export function earningsShard(env: Env, shard: number) {
  return env.EARNINGS.get(env.EARNINGS.idFromName(`earnings:${shard}`));
}

/** Statements are few and their periods must never overlap: one object closes them all, one at a time. */
export function settlements(env: Env) {
  return env.SETTLEMENTS.get(env.SETTLEMENTS.idFromName("settlements"));
}
