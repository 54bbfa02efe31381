/** Fixed secrets for the Workers-runtime tests only (real deployments use `wrangler secret put`). */
export const TEST_BINDINGS = {
  ADMIN_TOKEN: "test-admin-token",
  // RFC 8032 §7.1 TEST 1 seed: a published key, fine for tests and nothing else.
  GATEWAY_SIGNING_KEY: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
  // Tags API key tokens (32 bytes, base64url); fixed so tests can mint tokens for a chosen key id.
  API_KEY_SECRET: "dGVzdC1hcGkta2V5LXNlY3JldC0zMi1ieXRlcy1sb25n",
  // The fleet listens on 127.0.0.1: the local-development switch. Private-URL refusal is tested end to end.
  ALLOW_PRIVATE_NODE_URLS: "true",
  HEARTBEAT_RATE_LIMIT: "60/10",
  // Every test node registers from one address (none), and many are proven at the one fleet agent's origin; the
  // limits themselves are tested end to end (tools/e2e/new-identities.test.ts).
  REGISTRATION_RATE_LIMIT: "1000000/100000",
  IDENTITIES_PER_ORIGIN: "100000",
  // Short, so a test sees a silent session closed; test sessions that are not about silence last well under it.
  SESSION_SILENCE_LIMIT_MS: "2000",
  // A dropped session's node stays listed for 2 × this + 1 s (limits/session-timing.ts).
  SESSION_RECONNECT_WINDOW_MS: "200",
  // Several admission cells, as production has: a test's nodes land in different cells (routing/cells.ts), so every
  // test of the request path also checks that isolates find nodes across cells.
  ADMISSION_CELLS: "3",
  // Usage written ahead in the cells reaches the accounts, shards and roll-up this soon (production: 1,000 ms).
  USAGE_FLUSH_MS: "50",
  // The count before it was configuration, so settlement tests that fill every shard stay quick; changes of it are
  // tested in settlement-shard-count.test.ts.
  EARNINGS_SHARDS: "16",
};

/** Each test file routes its own models, so files sharing the one registry do not disturb each other. */
export const FLEET_MODELS = [
  "chat-basic",
  "chat-stream",
  "chat-failover",
  "chat-dead",
  "chat-busy",
  "chat-4xx",
  "chat-204",
  "embed-basic",
  "chat-usage",
  "chat-billing",
  "chat-liar",
  "chat-budget",
  "chat-responses",
  "chat-responses-failover",
  "chat-openapi",
  "embed-openapi",
] as const;

/** What the fleet's signing nodes charge for every model (micro-units per million tokens); tests advertise it too. */
export const FLEET_PRICE = { prompt: 2_000_000, completion: 8_000_000 };

/** Models of the backend that serves /v1/responses natively (behind the fleet's `passing` agent). */
export const RESPONSES_PASS_MODELS = ["resp-pass", "resp-failover"] as const;

/** Models of the lying Responses upstream (fleet/responses-liar.ts), each a different lie. */
export const RESPONSES_LIAR_MODELS = [
  "resp-overclaim",
  "resp-no-completed",
  "resp-chat-stream",
  "resp-garbage",
  "resp-broken",
  "resp-empty-final",
  "resp-after-completed",
  "resp-chat-only",
  "resp-after-error",
  "resp-after-done",
  "resp-thread-event",
] as const;

export interface FleetUrls {
  /** A real node agent (the node-agent package's server) in front of a simulated backend serving FLEET_MODELS. */
  agent: string;
  /** A node that answers every request with a 500. */
  failing: string;
  /** A node that answers every request with a 429. */
  busy: string;
  /** A node that answers every request with a 204 and no body. */
  noContent: string;
  /** An address where nothing listens. */
  dead: string;
  /** A real agent that signs receipts as one node: the one whose Ed25519 seed (base64url) is `signingSeed`. */
  signing: string;
  signingSeed: string;
  /** The same, for another node that signs receipts claiming one completion token more than it served. */
  liar: string;
  liarSeed: string;
  /**
   * A real agent with `--responses-api` (signing as the node of `passingSeed`) in front of a simulated backend that
   * serves /v1/responses natively (`nativeBackend`, whose /sim/stats counts requests per path).
   */
  passing: string;
  passingSeed: string;
  nativeBackend: string;
  /** The same agent, as the node of `responsesLiarSeed`, in front of the lying Responses upstream. */
  responsesLiar: string;
  responsesLiarSeed: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    fleet: FleetUrls;
  }
}
