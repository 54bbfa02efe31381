import { z } from "zod";

/**
 * A node id is the RFC 7638 thumbprint of the node's first Ed25519 key, base64url (43 characters). It stays the same
 * when the node rotates its key, so reputation and usage history follow the node, not the key.
 */
export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a node id (a base64url key thumbprint)");

export const ModelIdSchema = z.string().min(1).max(256);

/** Integer micro-units per million tokens (1,000,000 micro-units = one unit of the settlement currency). */
export const PriceSchema = z.strictObject({
  prompt: z.int().min(0).max(1e12),
  completion: z.int().min(0).max(1e12),
});
export type Price = z.infer<typeof PriceSchema>;

/**
 * The longest context (prompt and completion together, in tokens) a node may advertise. Larger claims are refused:
 * a node's context length sizes the worst case a budget reserves when a client sets no completion cap.
 */
export const MAX_CONTEXT_TOKENS = 10_000_000;

export const AdvertisedModelSchema = z.strictObject({
  id: ModelIdSchema,
  owned_by: z.string().min(1).max(128).optional(),
  /** The node's price for this model; a node that names none serves it free. */
  price: PriceSchema.optional(),
  /**
   * Tokens of context the model is served with (vLLM's `max_model_len`, or the agent's `--context-length`): no answer
   * is longer. Absent when the node does not know it.
   */
  context_length: z.int().min(1).max(MAX_CONTEXT_TOKENS).optional(),
  /**
   * The node's server serves the Responses API (`POST /v1/responses`, stateless) for this model itself: the gateway
   * passes a Responses request through to it rather than translating it to Chat Completions. The agent sets it on
   * every model with `--responses-api` (one upstream serves them all), in heartbeats and session states alike.
   */
  responses_api: z.literal(true).optional(),
});

export const HeartbeatSchema = z.strictObject({
  node_id: NodeIdSchema,
  url: z.url({ protocol: /^https?$/ }).max(2048),
  models: z.array(AdvertisedModelSchema).max(256),
  capacity: z.int().min(1).max(100_000),
  in_flight: z.int().min(0).max(1_000_000),
  /** Milliseconds since the epoch, as the node's clock reads it. */
  timestamp: z.int().min(0),
  /** Strictly increasing per node; replays of an older heartbeat are refused. */
  seq: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export type Heartbeat = z.infer<typeof HeartbeatSchema>;
export type AdvertisedModel = z.infer<typeof AdvertisedModelSchema>;

export const HeartbeatAckSchema = z.object({
  object: z.literal("heartbeat.ack"),
  node_id: NodeIdSchema,
  seq: z.int(),
  registered: z.boolean(),
  /** "pending_verification" until the node proves it answers at its URL; only "active" nodes get traffic. */
  status: z.enum(["active", "pending_verification"]),
  interval_ms: z.int(),
});
export type HeartbeatAck = z.infer<typeof HeartbeatAckSchema>;

/** How often agents heartbeat, and how long the gateway keeps a silent node live. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
export const NODE_TTL_MS = 10_000;
