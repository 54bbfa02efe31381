// Asks the inference server what it serves (GET /v1/models, OpenAI list shape) and keeps each model's owner and, when
// the server says (vLLM's `max_model_len`), its context length.
import { AdvertisedModelSchema, MAX_CONTEXT_TOKENS, type AdvertisedModel } from "@meshgate/schemas";
import { z } from "zod";

/** The gateway accepts at most this many models per heartbeat. */
export const MAX_ADVERTISED_MODELS = 256;
const FETCH_TIMEOUT_MS = 10_000;

const ModelListSchema = z.object({
  data: z.array(
    z.looseObject({ id: z.string(), owned_by: z.unknown().optional(), max_model_len: z.unknown().optional() }),
  ),
});
/** A context length the gateway accepts; anything else the server reports is treated as unknown. */
const ContextLengthSchema = z.int().min(1).max(MAX_CONTEXT_TOKENS);

export interface DiscoveredModels {
  models: AdvertisedModel[];
  /** Entries the gateway would refuse (bad id) or that did not fit. */
  skipped: number;
}

export async function discoverModels(upstreamRoot: string): Promise<DiscoveredModels> {
  const res = await fetch(`${upstreamRoot}/v1/models`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET /v1/models answered ${res.status}`);
  const parsed = ModelListSchema.safeParse(await res.json());
  if (!parsed.success) throw new Error("GET /v1/models did not return an OpenAI model list");
  const models: AdvertisedModel[] = [];
  for (const entry of parsed.data.data) {
    const owner =
      typeof entry.owned_by === "string" && entry.owned_by.length > 0 ? entry.owned_by.slice(0, 128) : undefined;
    const context = ContextLengthSchema.safeParse(entry.max_model_len);
    const model = AdvertisedModelSchema.safeParse({
      id: entry.id,
      ...(owner === undefined ? {} : { owned_by: owner }),
      ...(context.success ? { context_length: context.data } : {}),
    });
    if (model.success && models.length < MAX_ADVERTISED_MODELS) models.push(model.data);
  }
  return { models, skipped: parsed.data.data.length - models.length };
}

/** Models named on the command line; the upstream is not asked. */
export function modelsFromList(ids: readonly string[]): AdvertisedModel[] {
  return ids.map((id) => AdvertisedModelSchema.parse({ id }));
}
