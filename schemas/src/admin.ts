// The admin API's bodies (/admin/keys, /admin/nodes, /admin/settlements): what the gateway validates and what it
// answers. Here rather than beside the routes so the API description (worker/src/openapi/) is built from these very
// schemas without importing the Worker's Durable Objects.
import { z } from "zod";

/** Micro-units: a billion units of the settlement currency, far below where sums could lose integer precision. */
export const MAX_BUDGET = 1_000_000_000_000_000;
/** Per minute; the token buckets stay exact integers up to far beyond this. */
export const MAX_RATE = 1_000_000_000;

const limitFields = {
  /** Micro-units the key may spend over its life; null clears it. */
  budget: z.int().min(0).max(MAX_BUDGET).nullable().optional(),
  /** Requests per minute; null clears it. */
  rpm: z.int().min(1).max(MAX_RATE).nullable().optional(),
  /** Tokens per minute; null clears it. */
  tpm: z.int().min(1).max(MAX_RATE).nullable().optional(),
};

/** An object of these fields only: one it doesn't know is refused by name (zod's strict objects name none). */
function fieldsOnly<Shape extends z.ZodRawShape>(shape: Shape) {
  return z
    .looseObject(shape)
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key))
          ctx.addIssue({ code: "custom", path: [key], message: "not a field of this request" });
      }
    })
    .meta({ additionalProperties: false });
}

/** POST /admin/keys. */
export const CreateKeySchema = fieldsOnly({ name: z.string().trim().min(1).max(128), ...limitFields });
/** PATCH /admin/keys/{id}: at least one limit. */
export const UpdateKeySchema = fieldsOnly(limitFields)
  .refine(
    (v) => v.budget !== undefined || v.rpm !== undefined || v.tpm !== undefined,
    "give at least one of budget, rpm and tpm",
  )
  .meta({ minProperties: 1 });
/** POST /admin/nodes/{id}/ban: the body is optional; the reason is shown to the node when it is refused. */
export const BanSchema = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

const limits = { budget: z.int().nullable(), rpm: z.int().nullable(), tpm: z.int().nullable() };

/** A key as listed (never its secret). Times are unix seconds. */
export const ApiKeySchema = z.object({
  object: z.literal("api_key"),
  id: z.string(),
  name: z.string(),
  created: z.int(),
  revoked: z.int().nullable(),
  ...limits,
});
export type ApiKey = z.infer<typeof ApiKeySchema>;

/** POST /admin/keys: the key's secret, shown this once. */
export const CreatedApiKeySchema = z.object({
  object: z.literal("api_key"),
  id: z.string(),
  name: z.string(),
  key: z.string(),
  created: z.int(),
  ...limits,
});
export type CreatedApiKey = z.infer<typeof CreatedApiKeySchema>;

/** PATCH /admin/keys/{id}: the key with its new limits, what it has spent, and what requests in flight hold. */
export const UpdatedApiKeySchema = ApiKeySchema.extend({ spent: z.int(), reserved: z.int() });
export type UpdatedApiKey = z.infer<typeof UpdatedApiKeySchema>;

export const DeletedApiKeySchema = z.object({ object: z.literal("api_key"), id: z.string(), deleted: z.literal(true) });
export type DeletedApiKey = z.infer<typeof DeletedApiKeySchema>;

/** POST /admin/nodes/{id}/ban and /unban. */
export const NodeBanSchema = z.object({
  object: z.literal("node"),
  id: z.string(),
  banned: z.boolean(),
  ban_reason: z.string().nullable(),
});
export type NodeBan = z.infer<typeof NodeBanSchema>;

/** POST /admin/settlements/{id}/abort: the period (ms since the epoch) reopened and the receipts released. */
export const SettlementAbortSchema = z.object({
  object: z.literal("settlement.abort"),
  id: z.string(),
  status: z.literal("aborted"),
  from: z.int(),
  to: z.int(),
  released_receipts: z.int(),
});
export type SettlementAbort = z.infer<typeof SettlementAbortSchema>;
