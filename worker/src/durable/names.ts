// The one place that names and shards the Durable Objects.

/** All nodes live in one registry: heartbeats and snapshots are small, and one owner keeps sequence checks atomic. */
export function nodeRegistry(env: Env) {
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
}

export function apiKeys(env: Env) {
  return env.KEYS.get(env.KEYS.idFromName("keys"));
}

/** One ledger per API key: a key's usage is written and read in one place, and keys scale out independently. */
export function usageLedger(env: Env, keyId: string) {
  return env.LEDGER.get(env.LEDGER.idFromName(`ledger:${keyId}`));
}
