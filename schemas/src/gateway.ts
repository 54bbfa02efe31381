// Public documents the gateway serves: its signing key, the live node list, usage.
import { z } from "zod";
import { AdvertisedModelSchema, ModelIdSchema, NodeIdSchema, PriceSchema, type Price } from "./heartbeat.js";
import { Ed25519PublicJwkSchema } from "./signing/jwk.js";

/** One of the gateway's published keys; `kid` is the RFC 7638 thumbprint that its signatures name as keyid. */
export const GatewayKeySchema = z.object({
  kid: z.string(),
  alg: z.literal("ed25519"),
  jwk: Ed25519PublicJwkSchema,
  /** "current" signs now; "previous" was rotated out and is still accepted until `not_after`. */
  status: z.enum(["current", "previous"]),
  /** ISO 8601; null when no end is set. */
  not_after: z.string().nullable(),
});
export type GatewayKey = z.infer<typeof GatewayKeySchema>;

/**
 * The most a node may charge, micro-units per million tokens: per model, and `default` for every other model. The
 * gateway refuses heartbeats that advertise more, and never bills more.
 */
export const PriceCeilingsSchema = z.object({
  default: PriceSchema,
  models: z.record(ModelIdSchema, PriceSchema),
});
export type PriceCeilings = z.infer<typeof PriceCeilingsSchema>;

/** The ceiling that applies to `model`. */
export function ceilingFor(ceilings: PriceCeilings, model: string): Price {
  return Object.hasOwn(ceilings.models, model) ? (ceilings.models[model] ?? ceilings.default) : ceilings.default;
}

/** A price within a ceiling: neither per-million rate above it. */
export function priceWithin(price: Price, ceiling: Price): boolean {
  return price.prompt <= ceiling.prompt && price.completion <= ceiling.completion;
}

export const GatewayMetadataSchema = z.object({
  issuer: z.literal("meshgate"),
  /** Current key first. Agents accept dispatches signed by any listed key that has not passed `not_after`. */
  keys: z.array(GatewayKeySchema).min(1),
  heartbeat_path: z.string(),
  /** Where nodes without a public URL open their session (session.ts); absent from gateways before sessions. */
  session_path: z.string().optional(),
  heartbeat_interval_ms: z.int(),
  node_ttl_ms: z.int(),
  /** What nodes may charge (absent from gateways older than price ceilings). */
  price_ceilings: PriceCeilingsSchema.optional(),
});
export type GatewayMetadata = z.infer<typeof GatewayMetadataSchema>;

export const PublicNodeSchema = z.object({
  id: NodeIdSchema,
  /** The key the node signs with now: its thumbprint (the keyid of its signatures) and the key as a JWK. */
  keyid: z.string(),
  jwk: Ed25519PublicJwkSchema,
  url: z.string(),
  models: z.array(AdvertisedModelSchema),
  capacity: z.int(),
  in_flight: z.int(),
  last_heartbeat: z.string(),
  latency_ms: z.number().nullable(),
  reputation: z.number(),
  requests: z.int(),
  /** "direct": the gateway dials the node's URL; "session": the node dialled in (no public URL; `url` is ""). */
  transport: z.enum(["direct", "session"]),
});
export type PublicNode = z.infer<typeof PublicNodeSchema>;

/**
 * Why a usage row is billable or not: "ok" (a receipt signed by the node that matches what the gateway saw), "partial"
 * (the client left mid-stream: billed from the node's receipt for the part it relayed), or why not.
 */
export const ReceiptStatusSchema = z.enum([
  "ok",
  "partial",
  "missing",
  "invalid",
  "mismatch",
  "estimated",
  "incomplete",
]);

/** One metered request of GET /v1/usage. Token counts and money (micro-units) are integers; never any text. */
export const UsageRowSchema = z.object({
  request_id: z.string(),
  created: z.string(),
  key_id: z.string(),
  node_id: z.string(),
  model: z.string(),
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
  latency_ms: z.int(),
  status: z.int(),
  streamed: z.boolean(),
  /** Micro-units charged for this request (0 unless billable). */
  cost: z.int(),
  billable: z.boolean(),
  /** The counts are the gateway's own estimate: the node reported no usage. */
  estimated: z.boolean(),
  receipt_status: ReceiptStatusSchema,
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

/** Sums over a range or a group. `node_amount` (what nodes are owed, micro-units) only in the admin report. */
export const UsageTotalsSchema = z.object({
  requests: z.int(),
  prompt_tokens: z.int(),
  completion_tokens: z.int(),
  total_tokens: z.int(),
  cost: z.int(),
  node_amount: z.int().optional(),
  estimated_requests: z.int(),
  non_billable_requests: z.int(),
});
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

/** GET /v1/usage without group_by: totals and the newest rows of the range. */
export const UsageReportSchema = z.object({
  object: z.literal("usage"),
  totals: UsageTotalsSchema,
  data: z.array(UsageRowSchema),
  /** More rows than `limit` lie in the range (rows older than the retention are no longer listed). */
  has_more: z.boolean(),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;

export const UsageGroupingSchema = z.enum(["key", "model", "node", "day"]);
export type UsageGrouping = z.infer<typeof UsageGroupingSchema>;

/** One group: named by the field of its grouping (key_id and the key's name, model, node_id, or day as YYYY-MM-DD). */
export const UsageGroupRowSchema = UsageTotalsSchema.extend({
  key_id: z.string().optional(),
  name: z.string().optional(),
  model: z.string().optional(),
  node_id: z.string().optional(),
  day: z.string().optional(),
});
export type UsageGroupRow = z.infer<typeof UsageGroupRowSchema>;

/** GET /v1/usage?group_by= and GET /admin/usage: one row per group, in the group's order (days chronologically). */
export const UsageGroupReportSchema = z.object({
  object: z.literal("usage"),
  group_by: UsageGroupingSchema,
  totals: UsageTotalsSchema,
  data: z.array(UsageGroupRowSchema),
});
export type UsageGroupReport = z.infer<typeof UsageGroupReportSchema>;

/** What the router has learned about a node (GET /admin/nodes), so an operator can see why it gets traffic or not. */
export const RoutingStateSchema = z.object({
  /** 0..1: the expected success rate discounted by its uncertainty; what routing weighs nodes by. */
  trust: z.number(),
  /** ISO 8601 while the node is ejected by outlier detection; null otherwise. */
  ejected_until: z.string().nullable(),
  ejections: z.int(),
  /** Back from an ejection: one request at a time until it succeeds. */
  probation: z.boolean(),
  /** Concurrency learned from the node's 429s, below its declared capacity; null when none was learned. */
  learned_capacity: z.int().nullable(),
  /** Per model: time-to-first-token estimate, streaming speed, measured answers. */
  models: z.record(
    z.string(),
    z.object({ ttft_ms: z.number().nullable(), tokens_per_second: z.number().nullable(), samples: z.int() }),
  ),
});
export type RoutingState = z.infer<typeof RoutingStateSchema>;

/** GET /admin/nodes: every node the registry knows, live or not, with its trust state. */
export const AdminNodeSchema = PublicNodeSchema.extend({
  live: z.boolean(),
  /** Whether the node proved it answers at `url` (only proven nodes get traffic). */
  endpoint_verified: z.boolean(),
  banned: z.boolean(),
  ban_reason: z.string().nullable(),
  /** The node's last health probe (round trip in ms, when it was sent, failed probes in a row); null until probed. */
  probe: z
    .object({ reachable: z.boolean(), rtt_ms: z.number().nullable(), at: z.string(), failures: z.int() })
    .nullable(),
  routing: RoutingStateSchema,
});
export type AdminNode = z.infer<typeof AdminNodeSchema>;

/** One model some live node serves (GET /v1/models), in OpenAI's shape. */
/**
 * A model's price: the median over the live nodes serving it. `prompt`/`completion` are OpenRouter's form (USD per
 * token, decimal strings); the settlement unit is USD-pegged, 1,000,000 micro-units to the unit.
 */
export const ModelPricingSchema = z.object({
  prompt: z.string(),
  completion: z.string(),
  usd_per_million: z.object({ prompt: z.number(), completion: z.number() }),
  /** As nodes state prices (`--price`): integer micro-units per million tokens. */
  micro_units_per_million: z.object({ prompt: z.int(), completion: z.int() }),
});
export type ModelPricing = z.infer<typeof ModelPricingSchema>;

export const ModelObjectSchema = z.object({
  id: z.string(),
  object: z.literal("model"),
  /** Unix seconds: when the first node that serves it registered. */
  created: z.int(),
  owned_by: z.string(),
  /** How many live nodes serve it (a Meshgate extension, as the fields below). */
  nodes: z.int(),
  /** Tokens of context, the median of what its nodes state; null when none states one. */
  context_length: z.int().nullable(),
  pricing: ModelPricingSchema,
  /** The median time to first token the gateway measured over the last hour, ms; null with no answers. */
  ttft_ms_p50: z.number().nullable(),
});
export type ModelObject = z.infer<typeof ModelObjectSchema>;

/** One minute of the mesh's traffic: requests sent to nodes (a failed-over request counts once per node tried). */
export const TrafficMinuteSchema = z.object({
  /** The minute's start, ms since the epoch. */
  start: z.int(),
  requests: z.int(),
  succeeded: z.int(),
});
export type TrafficMinute = z.infer<typeof TrafficMinuteSchema>;

/** GET /v1/mesh/status: what the public status page shows. */
export const MeshStatusSchema = z.object({
  object: z.literal("mesh.status"),
  /** When the figures were made, ms since the epoch. */
  at: z.int(),
  nodes: z.object({ live: z.int() }),
  models: z.array(ModelObjectSchema),
  traffic: z.object({ minute_ms: z.int(), minutes: z.array(TrafficMinuteSchema) }),
});
export type MeshStatus = z.infer<typeof MeshStatusSchema>;

/** GET /: what answers here, for someone who opens the gateway's URL in a browser or curls it first. */
export const RootInfoSchema = z.object({
  name: z.literal("Meshgate"),
  version: z.string(),
  description: z.string(),
  /** The base URL to give an OpenAI SDK. */
  openai_base_url: z.string(),
  links: z.object({
    /** DOCS_URL, e.g. the repository's README; null while it is unset. */
    docs: z.string().nullable(),
    models: z.string(),
    metadata: z.string(),
    /** This API's OpenAPI description. */
    openapi: z.string(),
    /** The mesh status page (HTML, public). */
    status: z.string(),
    /** The usage page (HTML): a key holder's spend and tokens, the key kept in the browser. */
    usage: z.string(),
  }),
});
export type RootInfo = z.infer<typeof RootInfoSchema>;
