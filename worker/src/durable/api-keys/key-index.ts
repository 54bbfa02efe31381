// The key index as the Worker uses it: a token's key (one shard for a new-format token; a pointer and a shard for a
// legacy one), and every key (an admin listing: every shard that holds keys).
import { legacyPointerShardOf } from "../../keys/key-shard.js";
import { mapLimit } from "../../lib/fan-out.js";
import { keyIndexOf, keyIndexRoot, keyIndexShard } from "../names.js";
import type { ApiKeyInfo, KeyLookup } from "./api-keys.js";
import { moveLegacyKeys } from "./legacy-move.js";

/** Shards listed at once. */
const FAN_OUT = 32;

/** Whether this isolate has learnt that the legacy keys have all moved: then a missing pointer is final. */
let legacyMoved = false;
/** Whether it has learnt that the index never had a legacy key: then a legacy-format token is nobody's. */
let legacyNone = false;

/**
 * The key of a token's hash. A new-format token names its key id, so one shard answers (and must agree on the id). A
 * legacy token costs at most two lookups: its pointer (in the shard of its hash's first byte), then its key's shard.
 * A missing pointer is asked of the index's root only until this isolate learns the move is over (its first miss
 * after the move, then never again). An index that never had a legacy key (the move found none) costs nothing for a
 * legacy-format token once the isolate learnt it, so random ones reach no object.
 */
export async function lookupKey(env: Env, hash: string, claimedId: string | null): Promise<KeyLookup | null> {
  if (claimedId !== null) {
    const found = await keyIndexOf(env, claimedId).lookup(hash);
    return found?.id === claimedId ? found : null;
  }
  if (legacyNone) return null;
  const pointer = await keyIndexShard(env, legacyPointerShardOf(hash)).legacyPointer(hash);
  if (pointer !== null) return await keyIndexOf(env, pointer).lookup(hash);
  if (legacyMoved) return null;
  const { key, moved, none } = await keyIndexRoot(env).legacyLookup(hash);
  if (moved) legacyMoved = true;
  if (none) legacyNone = true;
  return key;
}

/** Every key, revoked ones too, in creation order: a bounded fan-out over the shards that hold keys (an admin call). */
export async function listAllKeys(env: Env, now: number): Promise<ApiKeyInfo[]> {
  await moveLegacyKeys(env, now);
  const shards = await keyIndexRoot(env).occupiedShards();
  const lists = await mapLimit(shards, FAN_OUT, (shard) => keyIndexShard(env, shard).list());
  return lists.flat().sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Tests: forget that the legacy keys were seen moved. */
export function forgetLegacyMoveSeen(): void {
  legacyMoved = false;
  legacyNone = false;
}
