// Public documents the gateway serves: its signing key, the live node list, usage.
import { z } from "zod";
import { AdvertisedModelSchema, NodeIdSchema } from "./heartbeat.js";

export const GatewayMetadataSchema = z.object({
  issuer: z.literal("meshgate"),
  signing_key: z.object({ keyid: z.string(), alg: z.literal("ed25519"), public_key: z.string(), jwk: z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string() }) }),
  heartbeat_path: z.string(),
  heartbeat_interval_ms: z.int(),
  node_ttl_ms: z.int(),
});
export type GatewayMetadata = z.infer<typeof GatewayMetadataSchema>;

export const PublicNodeSchema = z.object({
  id: NodeIdSchema,
  url: z.string(),
  models: z.array(AdvertisedModelSchema),
  capacity: z.int(),
  in_flight: z.int(),
  last_heartbeat: z.string(),
  latency_ms: z.number().nullable(),
  reputation: z.number(),
  requests: z.int(),
});
export type PublicNode = z.infer<typeof PublicNodeSchema>;

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
});
export type UsageRow = z.infer<typeof UsageRowSchema>;

export const UsageReportSchema = z.object({
  object: z.literal("usage"),
  totals: z.object({ requests: z.int(), prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
  data: z.array(UsageRowSchema),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;
