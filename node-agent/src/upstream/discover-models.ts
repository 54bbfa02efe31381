// Asks the inference server what it serves (GET /v1/models, OpenAI list shape) and keeps each model's owner.
import { AdvertisedModelSchema, type AdvertisedModel } from "@meshgate/schemas";
import { z } from "zod";

/** The gateway accepts at most this many models per heartbeat. */
export const MAX_ADVERTISED_MODELS = 256;
const FETCH_TIMEOUT_MS = 10_000;

const ModelListSchema = z.object({ data: z.array(z.looseObject({ id: z.string(), owned_by: z.unknown().optional() })) });

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
    const owner = typeof entry.owned_by === "string" && entry.owned_by.length > 0 ? entry.owned_by.slice(0, 128) : undefined;
    const model = AdvertisedModelSchema.safeParse(owner === undefined ? { id: entry.id } : { id: entry.id, owned_by: owner });
    if (model.success && models.length < MAX_ADVERTISED_MODELS) models.push(model.data);
  }
  return { models, skipped: parsed.data.data.length - models.length };
}

/** Models named on the command line; the upstream is not asked. */
export function modelsFromList(ids: readonly string[]): AdvertisedModel[] {
  return ids.map((id) => AdvertisedModelSchema.parse({ id }));
}
