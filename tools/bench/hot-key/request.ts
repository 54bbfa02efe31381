// The one request the hot-key bench sends, and what the gateway holds for it: the whole body as prompt tokens plus
// the template's headroom, and the completion cap (as tools/e2e/hot-key.test.ts computes it).
import { clientCost, nodeAmount } from "@meshgate/schemas";
import { PROMPT_TEMPLATE_TOKENS } from "@meshgate/worker/billing/token-bounds";
import { WRANGLER_TOML } from "../../gateway/paths.js";
import { readGatewayConfig } from "../../gateway/wrangler-config.js";
import { MODEL, PRICE } from "./gateway.js";

const MAX_TOKENS = 32;

export const BODY = JSON.stringify({
  model: MODEL,
  messages: [{ role: "user", content: "Spend my budget wisely." }],
  max_tokens: MAX_TOKENS,
});

/** Tokens held from a tpm bucket per request. */
export const WORST_CASE_TOKENS = Buffer.byteLength(BODY) + PROMPT_TEMPLATE_TOKENS + MAX_TOKENS;

/** Micro-units held from a budget per request, at the gateway's fee (wrangler.toml's GATEWAY_FEE_BPS). */
export function worstCaseCost(): number {
  const feeBps = Number(readGatewayConfig(WRANGLER_TOML).vars["GATEWAY_FEE_BPS"]);
  if (!Number.isSafeInteger(feeBps)) throw new Error("wrangler.toml sets no GATEWAY_FEE_BPS");
  const amount = nodeAmount({ prompt_tokens: WORST_CASE_TOKENS - MAX_TOKENS, completion_tokens: MAX_TOKENS }, PRICE);
  return clientCost(amount, feeBps);
}
