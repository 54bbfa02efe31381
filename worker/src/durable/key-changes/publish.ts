// Tells every isolate that a key changed: one change into every replica of the feed, after the key's shard was
// written (so an isolate that reads the change and looks the key up again sees the new state).
import { KEY_CHANGE_REPLICAS, keyChanges } from "../names.js";

export async function publishKeyChange(env: Env, id: string, now: number): Promise<void> {
  await Promise.all(
    Array.from({ length: KEY_CHANGE_REPLICAS }, (_, replica) => keyChanges(env, replica).publish([id], now)),
  );
}
