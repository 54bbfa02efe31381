import { describe, expect, it } from "vitest";
import { fromBase64, toBase64Url } from "./base64.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "./ed25519-webcrypto.js";
import { hexToBytes, RFC8032_VECTORS } from "./test-vectors.js";

describe("Ed25519 via WebCrypto against RFC 8032 §7.1", () => {
  for (const v of RFC8032_VECTORS) {
    it(`${v.name}: derives the public key and signs exactly the published signature`, async () => {
      const { publicKey, signer } = await webCryptoSignerFromSeed(toBase64Url(hexToBytes(v.seed)), (pk) => pk);
      expect(fromBase64(publicKey)).toEqual(hexToBytes(v.publicKey));
      expect(await signer.sign(hexToBytes(v.message))).toEqual(hexToBytes(v.signature));
    });

    it(`${v.name}: verifies the published signature and rejects a flipped bit`, async () => {
      const pk = toBase64Url(hexToBytes(v.publicKey));
      const sig = hexToBytes(v.signature);
      expect(await webCryptoVerify(pk, sig, hexToBytes(v.message))).toBe(true);
      const bad = sig.slice();
      bad[10]! ^= 1;
      expect(await webCryptoVerify(pk, bad, hexToBytes(v.message))).toBe(false);
    });
  }

  it("treats malformed keys and signatures as not verifying, without throwing", async () => {
    const v = RFC8032_VECTORS[0];
    expect(await webCryptoVerify("not-a-key", hexToBytes(v.signature), new Uint8Array())).toBe(false);
    expect(await webCryptoVerify(toBase64Url(hexToBytes(v.publicKey)), new Uint8Array(10), new Uint8Array())).toBe(
      false,
    );
  });

  it("refuses a seed that is not 32 bytes", async () => {
    await expect(webCryptoSignerFromSeed("AAAA", (pk) => pk)).rejects.toThrow(/32-byte/);
  });
});
