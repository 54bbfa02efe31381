// The one-time move of the legacy keys (those of the single `keys` object from before the index, now the index's root)
// into the shards: each row into its id's shard, a pointer (hash → id) into the shard of the hash's first byte, then
// the row deleted from the root. Every step is idempotent, so a move cut short is finished by the next caller. Run by
// the cron and before every admin key route; once this isolate has seen it done, it skips it.
import { keyShardOf, legacyPointerShardOf } from "../../keys/key-shard.js";
import { mapLimit } from "../../lib/fan-out.js";
import { groupBy } from "../../lib/group-by.js";
import { keyIndexRoot, keyIndexShard } from "../names.js";
import type { StoredKey } from "./api-keys.js";

const BATCH = 500;
/** Shards written at once. */
const FAN_OUT = 16;

let done = false;

async function moveBatch(env: Env, keys: readonly StoredKey[]): Promise<void> {
  const root = keyIndexRoot(env);
  const rows = [...groupBy(keys, (k) => keyShardOf(k.id))];
  await root.noteShards(rows.map(([shard]) => shard));
  await mapLimit(rows, FAN_OUT, ([shard, group]) => keyIndexShard(env, shard).insert(group));
  // Pointers after rows: a pointer never leads to a shard that lacks its key.
  const pointers = keys.map((k) => ({ hash: k.hash, id: k.id }));
  await mapLimit([...groupBy(pointers, (p) => legacyPointerShardOf(p.hash))], FAN_OUT, ([shard, group]) =>
    keyIndexShard(env, shard).addPointers(group),
  );
  await root.deleteMoved(keys.map((k) => k.id));
}

/** Moves every legacy key left (if any), then records the move as over. */
export async function moveLegacyKeys(env: Env, now: number): Promise<void> {
  if (done) return;
  const root = keyIndexRoot(env);
  for (;;) {
    const batch = await root.exportBatch(BATCH);
    if (batch.keys.length === 0) {
      if (!batch.moved) await root.markLegacyMoved(now);
      done = true;
      return;
    }
    await moveBatch(env, batch.keys);
  }
}

/** Tests: forget that this isolate saw the move done. */
export function forgetLegacyMoveDone(): void {
  done = false;
}
