import { describe, expect, it } from "vitest";
import { fromBase64, toBase64, toBase64Url } from "./base64.js";
import { constantTimeEqual } from "./bytes.js";
import { contentDigest, contentDigestMatches } from "./content-digest.js";
import { utf8 } from "./bytes.js";

describe("base64", () => {
  it("matches RFC 4648 test vectors both ways", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, encoded] of vectors) {
      expect(toBase64(utf8(plain))).toBe(encoded);
      expect(fromBase64(encoded)).toEqual(utf8(plain));
    }
  });

  it("url-safe form has no padding and decodes back", () => {
    const bytes = new Uint8Array([251, 255, 191]);
    expect(toBase64Url(bytes)).toBe("-_-_");
    expect(fromBase64("-_-_")).toEqual(bytes);
  });

  it("returns null for malformed input", () => {
    expect(fromBase64("ab$c")).toBeNull();
    expect(fromBase64("abcde")).toBeNull();
  });

  it("refuses non-canonical encodings whose unused bits are set, so one value has one text", () => {
    expect(fromBase64("QQ==")).toEqual(utf8("A"));
    expect(fromBase64("QR==")).toBeNull();
    expect(fromBase64("QUI")).toEqual(utf8("AB"));
    expect(fromBase64("QUJ")).toBeNull();
  });
});

describe("constant-time compare", () => {
  it("compares content and length", () => {
    expect(constantTimeEqual(utf8("abc"), utf8("abc"))).toBe(true);
    expect(constantTimeEqual(utf8("abc"), utf8("abd"))).toBe(false);
    expect(constantTimeEqual(utf8("abc"), utf8("abcd"))).toBe(false);
  });
});

describe("RFC 9530 content-digest", () => {
  it("computes sha-256 of the RFC 9530 example body", async () => {
    // RFC 9530 §B.1: {"hello": "world"}
    expect(await contentDigest(utf8('{"hello": "world"}'))).toBe(
      "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
    );
  });

  it("matches only the same body, and finds sha-256 among other algorithms", async () => {
    const body = utf8("payload");
    const digest = await contentDigest(body);
    expect(await contentDigestMatches(digest, body)).toBe(true);
    expect(await contentDigestMatches(`sha-512=:AAAA:, ${digest}`, body)).toBe(true);
    expect(await contentDigestMatches(digest, utf8("payloaD"))).toBe(false);
    expect(await contentDigestMatches("sha-512=:AAAA:", body)).toBe(false);
  });

  it("checks with the hash function it is given", async () => {
    const body = utf8("payload");
    const digest = await contentDigest(body);
    const zeros = () => new Uint8Array(32);
    expect(await contentDigestMatches(digest, body, zeros)).toBe(false);
  });
});
