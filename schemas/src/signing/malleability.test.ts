// One signature, one encoding: a malleated S (S + L) or a base64 text with stray bits is refused, never treated as a
// second valid signature. The Worker (workerd's BoringSSL) and the agent (Node's OpenSSL) are tested the same way in
// their own packages.
import { describe, expect, it } from "vitest";
import { hexToBytes, malleateSignature, nonCanonicalSignatureHeader, RFC8032_VECTORS } from "../testing/index.js";
import { fromBase64, toBase64, toBase64Url } from "./base64.js";
import { webCryptoVerify } from "./ed25519-webcrypto.js";

describe("signature malleability", () => {
  for (const v of RFC8032_VECTORS) {
    it(`refuses ${v.name} with S replaced by S + L`, async () => {
      const publicKey = toBase64Url(hexToBytes(v.publicKey));
      const signature = hexToBytes(v.signature);
      const message = hexToBytes(v.message);
      expect(await webCryptoVerify(publicKey, signature, message)).toBe(true);
      const malleated = malleateSignature(signature);
      expect(malleated).not.toEqual(signature);
      expect(await webCryptoVerify(publicKey, malleated, message)).toBe(false);
    });
  }

  it("gives every signature exactly one base64 form", () => {
    const signature = hexToBytes(RFC8032_VECTORS[0]!.signature);
    const header = `sig1=:${toBase64(signature)}:`;
    const odd = nonCanonicalSignatureHeader(header);
    expect(odd).not.toBe(header);
    expect(fromBase64(header.slice(6, -1))).toEqual(signature);
    expect(fromBase64(odd.slice(6, -1))).toBeNull();
  });
});
