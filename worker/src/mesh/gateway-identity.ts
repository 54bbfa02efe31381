// The gateway's Ed25519 identity, imported once per isolate from the GATEWAY_SIGNING_KEY secret.
import { jwkThumbprint, webCryptoSignerFromSeed, type WebCryptoKeyPair } from "@meshgate/schemas";
import { HttpError } from "../http/http-error.js";

let cached: { seed: string; identity: Promise<WebCryptoKeyPair> } | null = null;

export function gatewayIdentity(env: Env): Promise<WebCryptoKeyPair> {
  const seed = env.GATEWAY_SIGNING_KEY;
  if (!seed)
    return Promise.reject(
      new HttpError(500, "The gateway has no signing key configured.", { code: "gateway_misconfigured" }),
    );
  if (cached?.seed !== seed) {
    const identity = webCryptoSignerFromSeed(seed, jwkThumbprint).catch((err: unknown) => {
      cached = null;
      console.error("GATEWAY_SIGNING_KEY is unusable:", err instanceof Error ? err.message : String(err));
      throw new HttpError(500, "The gateway's signing key is misconfigured.", { code: "gateway_misconfigured" });
    });
    cached = { seed, identity };
  }
  return cached.identity;
}
