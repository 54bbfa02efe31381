// The price ceilings this gateway enforces (PRICE_CEILINGS), parsed once per distinct value. A misconfigured value
// stops every request that needs it with a clear error, rather than admit or bill at a ceiling nobody set.
import type { PriceCeilings } from "@meshgate/schemas";
import { parsePriceCeilings } from "../billing/price-ceiling.js";
import { HttpError } from "./http-error.js";

let cached: { text: string | undefined; ceilings: PriceCeilings } | null = null;

export function priceCeilings(env: { PRICE_CEILINGS?: string | undefined }): PriceCeilings {
  if (cached && cached.text === env.PRICE_CEILINGS) return cached.ceilings;
  const parsed = parsePriceCeilings(env.PRICE_CEILINGS);
  if ("error" in parsed) {
    console.error(parsed.error);
    throw new HttpError(500, "The gateway's price ceilings are misconfigured.", { code: "gateway_misconfigured" });
  }
  cached = { text: env.PRICE_CEILINGS, ceilings: parsed };
  return parsed;
}
