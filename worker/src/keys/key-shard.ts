// Where a key lives in the sharded index. Both functions are stable forever: changing either would orphan every key.
import { fnv1a } from "../lib/fnv1a.js";

/** Objects of the key index (`keys:<n>`). */
export const KEY_INDEX_SHARDS = 256;

/** FNV-1a of the key id: any id (legacy ones included) maps to one shard, the same in every deployment. */
export function keyShardOf(id: string): number {
  return fnv1a(id) % KEY_INDEX_SHARDS;
}

/**
 * The shard holding a legacy token's pointer (hash → id): the first byte of the token's SHA-256 (hex), so random
 * legacy-format tokens spread evenly over every shard and no one object hears all of them.
 */
export function legacyPointerShardOf(hashHex: string): number {
  const n = Number.parseInt(hashHex.slice(0, 2), 16);
  return Number.isInteger(n) ? n % KEY_INDEX_SHARDS : 0;
}
