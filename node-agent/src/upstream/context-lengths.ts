// The context length each advertised model is served with: the operator's --context-length, else what the upstream
// reported. A budgeted client that sets no completion cap is reserved for it, so a model without one is worth a
// warning.
import type { AdvertisedModel } from "@meshgate/schemas";

export interface SizedModels {
  models: AdvertisedModel[];
  /** Context lengths given for models the node does not serve: not advertised. */
  unserved: string[];
  /** Models advertised without a context length. */
  unknown: string[];
}

export function applyContextLengths(
  models: readonly AdvertisedModel[],
  overrides: ReadonlyMap<string, number>,
): SizedModels {
  const sized = models.map((m) => {
    const contextLength = overrides.get(m.id);
    return contextLength === undefined ? m : { ...m, context_length: contextLength };
  });
  const served = new Set(models.map((m) => m.id));
  return {
    models: sized,
    unserved: [...overrides.keys()].filter((id) => !served.has(id)),
    unknown: sized.filter((m) => m.context_length === undefined).map((m) => m.id),
  };
}
