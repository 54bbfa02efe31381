// RFC 8037 JWK form of an Ed25519 public key and its RFC 7638 thumbprint (the keyid of every Meshgate signature).
import { z } from "zod";
import { toBase64Url } from "./base64.js";
import { sha256, utf8 } from "./bytes.js";

export const Ed25519PublicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "must be a 32-byte base64url key"),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwkSchema>;

export function publicJwk(publicKey: string): Ed25519PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: publicKey };
}

export async function jwkThumbprint(publicKey: string): Promise<string> {
  // Required members only, lexicographic order, no whitespace (RFC 7638 §3).
  return toBase64Url(await sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${publicKey}"}`)));
}
