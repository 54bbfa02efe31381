import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, toBase64Url } from "../signing/base64.js";
import { utf8 } from "../signing/bytes.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "../signing/ed25519-webcrypto.js";
import { jwkThumbprint } from "../signing/jwk.js";
import { hexToBytes, RFC8032_VECTORS } from "../signing/test-vectors.js";
import { toHex } from "./merkle.js";
import {
  bodyDigest,
  decodeReceipt,
  encodeReceipt,
  parseReceiptBytes,
  receiptBytes,
  receiptLeaf,
  receiptOfFields,
  ReceiptSchema,
  StreamDigest,
  type Receipt,
} from "./receipt.js";

const TEST1 = RFC8032_VECTORS[0];
const seed = toBase64Url(hexToBytes(TEST1.seed));

/** A receipt by the RFC 8032 TEST 1 key (its node id is that key's RFC 7638 thumbprint). */
const RECEIPT: Receipt = {
  request_id: "req_0123456789abcdef",
  node_id: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
  model: "llama-3-8b",
  prompt_tokens: 12,
  completion_tokens: 34,
  price: { prompt: 150_000, completion: 600_000 },
  body_digest: "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
  created: 1_800_000_000_000,
};
const BYTES =
  '["meshgate-receipt-v1","req_0123456789abcdef","kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k","llama-3-8b",12,34,150000,600000,' +
  '"sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",1800000000000]';
// Computed independently: python3 sha256(sha256(BYTES)) and node:crypto's Ed25519 sign of BYTES with the TEST 1 seed.
const LEAF = "0xf31ab0414daa76ea864c8b032c754c71ba44b5ed9f2a20adf427c5df59fc385e";
const SIGNATURE =
  "a67b1d2e902a19dc69d5cdb198c7245007fc9f2b7b64de54b38e2c61ebd97b0d754376f8cf2d04b976eeb54fb76133df22bc287b3bb379b51bd25857682a0d07";

const decoded = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("receipt bytes (known vector)", () => {
  it("are exactly the canonical JSON array", () => {
    expect(decoded(receiptBytes(RECEIPT))).toBe(BYTES);
  });

  it("hash to the pinned leaf", () => {
    expect(toHex(receiptLeaf(utf8(BYTES)))).toBe(LEAF);
  });

  it("sign to the pinned signature with the RFC 8032 TEST 1 seed, which verifies with its public key", async () => {
    const { signer, publicKey } = await webCryptoSignerFromSeed(seed, jwkThumbprint);
    expect(signer.keyId).toBe(RECEIPT.node_id);
    const signature = await signer.sign(receiptBytes(RECEIPT));
    expect(toHex(signature)).toBe(`0x${SIGNATURE}`);
    expect(await webCryptoVerify(publicKey, signature, receiptBytes(RECEIPT))).toBe(true);
    expect(await webCryptoVerify(publicKey, signature, receiptBytes({ ...RECEIPT, completion_tokens: 35 }))).toBe(
      false,
    );
  });

  it("use the digest of the example body", () => {
    expect(bodyDigest(utf8('{"hello": "world"}'))).toBe(RECEIPT.body_digest);
  });
});

describe("receipt wire form", () => {
  const signature = hexToBytes(SIGNATURE);
  const token = encodeReceipt(receiptBytes(RECEIPT), signature);

  it("round-trips", () => {
    expect(token).toBe(`${toBase64Url(utf8(BYTES))}.${toBase64Url(signature)}`);
    const back = decodeReceipt(token);
    expect(back?.receipt).toEqual(RECEIPT);
    expect(back?.bytes).toEqual(utf8(BYTES));
    expect(back?.signature).toEqual(signature);
  });

  it.each([
    ["whitespace", BYTES.replace(",12,", ", 12,")],
    ["a number spelled 12.0", BYTES.replace(",12,", ",12.0,")],
    ["a number spelled 1.2e1", BYTES.replace(",12,", ",1.2e1,")],
    ["an escaped character", BYTES.replace('"llama-3-8b"', '"ll\\u0061ma-3-8b"')],
    ["another context", BYTES.replace("meshgate-receipt-v1", "meshgate-receipt-v2")],
    ["an extra field", BYTES.replace("]", ",1]")],
    ["a field missing", BYTES.replace(",1800000000000]", "]")],
    ["an object instead of the array", JSON.stringify(RECEIPT)],
    ["negative tokens", BYTES.replace(",12,", ",-12,")],
    ["fractional tokens", BYTES.replace(",12,", ",12.5,")],
    ["a malformed node id", BYTES.replace("kPrK_", "kPrK!")],
    ["a byte-order mark", `\uFEFF${BYTES}`],
    ["trailing newline", `${BYTES}\n`],
  ])("refuses bytes with %s", (_name, text) => {
    expect(parseReceiptBytes(utf8(text))).toBeNull();
    expect(decodeReceipt(encodeReceipt(utf8(text), signature))).toBeNull();
  });

  it("refuses invalid UTF-8", () => {
    expect(parseReceiptBytes(new Uint8Array([0x5b, 0xff, 0x5d]))).toBeNull();
  });

  it("refuses a malformed token", () => {
    const [body = "", sig = ""] = token.split(".");
    expect(decodeReceipt(body)).toBeNull();
    expect(decodeReceipt(`${body}.${toBase64Url(signature.slice(0, 63))}`)).toBeNull();
    expect(decodeReceipt(`${body}.${sig}.x`)).toBeNull();
    expect(decodeReceipt(`${body}!.${sig}`)).toBeNull();
    expect(decodeReceipt(`${body}.${sig}${"A".repeat(4096)}`)).toBeNull();
  });

  it("refuses a non-canonical base64 signature whose unused bits are set", () => {
    // 64 bytes → 86 base64url characters, the last carrying 4 unused bits (always zero in the canonical text).
    const [body = "", sig = ""] = token.split(".");
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const altered = `${sig.slice(0, -1)}${alphabet[alphabet.indexOf(sig.at(-1) ?? "A") | 1] ?? ""}`;
    expect(fromBase64(altered)).toBeNull();
    expect(decodeReceipt(`${body}.${altered}`)).toBeNull();
  });
});

describe("StreamDigest", () => {
  it("digests each data payload followed by a newline", () => {
    const digest = new StreamDigest();
    digest.add("a");
    digest.add("[DONE]");
    // python3: sha256(b"a\n[DONE]\n")
    expect(digest.finish()).toBe(
      `sha-256=:${toBase64(hexToBytes("292867b7d75a2ff20497ad2a263091eaa0dd494aa55c1c245a92a0f5c8878e22"))}:`,
    );
    const same = new StreamDigest();
    same.add("a");
    same.add("[DONE]");
    expect(same.finish()).toBe(bodyDigest(utf8("a\n[DONE]\n")));
  });
});

describe("receiptOfFields", () => {
  /** The schema's verdict on the same fields. */
  const bySchema = (fields: readonly unknown[]): Receipt | null => {
    const [, request_id, node_id, model, prompt_tokens, completion_tokens, prompt, completion, body_digest, created] =
      fields;
    const parsed = ReceiptSchema.safeParse({
      request_id,
      node_id,
      model,
      prompt_tokens,
      completion_tokens,
      price: { prompt, completion },
      body_digest,
      created,
    });
    return parsed.success ? parsed.data : null;
  };
  const valid: unknown[] = JSON.parse(BYTES) as unknown[];

  it("accepts exactly what ReceiptSchema accepts, field by field at its bounds and on anything else", () => {
    const edgeValues: unknown[] = [
      "",
      "x",
      "x".repeat(128),
      "x".repeat(129),
      "x".repeat(256),
      "x".repeat(257),
      "A".repeat(43),
      "A".repeat(42),
      `${"A".repeat(42)}=`,
      "A".repeat(44),
      RECEIPT.body_digest,
      RECEIPT.body_digest.replace("=:", ":"),
      `${RECEIPT.body_digest}\n`,
      0,
      -0,
      -1,
      1.5,
      1e8,
      1e8 + 1,
      1e12,
      1e12 + 1,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 1,
      NaN,
      Infinity,
      null,
      true,
      [],
      {},
      "12",
      undefined,
    ];
    for (let at = 1; at < valid.length; at++) {
      for (const value of edgeValues) {
        const fields = valid.slice();
        fields[at] = value;
        expect(receiptOfFields(fields), `field ${at} = ${JSON.stringify(value)}`).toEqual(bySchema(fields));
      }
    }
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double()), { minLength: 10, maxLength: 10 }),
        fc.nat(9),
        (random, keep) => {
          const fields = valid.map((v, i) => (i === keep || i === 0 ? v : random[i]));
          expect(receiptOfFields(fields)).toEqual(bySchema(fields));
        },
      ),
      { numRuns: 3000 },
    );
    expect(receiptOfFields(valid)).toEqual(RECEIPT);
  });
});
