import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "./base64.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "./ed25519-webcrypto.js";
import { jwkThumbprint } from "./jwk.js";
import { isCanonicalKey, nodeKeyVerifier } from "./node-key.js";
import { utf8 } from "./bytes.js";

describe("node key verification", () => {
  it("knows a keyid only when the header's key hashes to it", async () => {
    const { signer, publicKey } = await webCryptoSignerFromSeed(
      "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
      jwkThumbprint,
    );
    const data = utf8("base");
    const signature = await signer.sign(data);
    expect(await nodeKeyVerifier(publicKey, webCryptoVerify)(signer.keyId, data, signature)).toBe(true);
    expect(await nodeKeyVerifier(publicKey, webCryptoVerify)("another-keyid", data, signature)).toBeNull();
    expect(await nodeKeyVerifier(null, webCryptoVerify)(signer.keyId, data, signature)).toBeNull();
  });

  it("accepts each key in one spelling only, so one key never gets a second keyid", async () => {
    // Find a key whose base64url form has a '-' or '_', then spell it in standard base64.
    for (let i = 1; i < 64; i++) {
      const seed = toBase64(new Uint8Array(32).fill(i)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      const { signer, publicKey } = await webCryptoSignerFromSeed(seed, jwkThumbprint);
      if (!/[-_]/.test(publicKey)) continue;
      const respelled = publicKey.replace(/-/g, "+").replace(/_/g, "/");
      expect(fromBase64(respelled)).toEqual(fromBase64(publicKey));
      expect(isCanonicalKey(publicKey)).toBe(true);
      expect(isCanonicalKey(respelled)).toBe(false);
      const data = utf8("base");
      const signature = await signer.sign(data);
      expect(
        await nodeKeyVerifier(respelled, webCryptoVerify)(await jwkThumbprint(respelled), data, signature),
      ).toBeNull();
      return;
    }
    throw new Error("no test key with - or _ found");
  });

  it("refuses keys of the wrong length or with stray bits", () => {
    expect(isCanonicalKey("A".repeat(42))).toBe(false);
    expect(isCanonicalKey("A".repeat(42) + "B")).toBe(false); // 'B' sets a bit past the 32nd byte
    expect(isCanonicalKey("A".repeat(43))).toBe(true);
  });
});
