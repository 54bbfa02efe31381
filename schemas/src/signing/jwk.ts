// RFC 8037 JWK form of an Ed25519 public key and its RFC 7638 thumbprint (used as the gateway's keyid).
import { toBase64Url } from "./base64.js";
import { sha256, utf8 } from "./bytes.js";

export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
}

export function publicJwk(publicKey: string): Ed25519PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: publicKey };
}

export async function jwkThumbprint(publicKey: string): Promise<string> {
  // Required members only, lexicographic order, no whitespace (RFC 7638 §3).
  return toBase64Url(await sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${publicKey}"}`)));
}
