import { describe, expect, it } from "vitest";
import { toBase64Url } from "./base64.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "./ed25519-webcrypto.js";
import { parseSignedMessage, signatureBase, signMessage, SignatureError, type HttpMessage } from "./http-signature.js";
import { RFC9421_B26 } from "./test-vectors.js";
import { utf8 } from "./bytes.js";

const v = RFC9421_B26;
const message: HttpMessage = { method: v.request.method, url: v.request.url, headers: new Headers(v.request.headers) };

describe("RFC 9421 Appendix B.2.6 (ed25519)", () => {
  it("builds the published signature base", () => {
    const base = signatureBase(message, v.components, v.signatureInput.slice("sig-b26=".length));
    expect(base).toBe(v.base);
  });

  it("signs to the published Signature-Input and Signature", async () => {
    const { signer } = await webCryptoSignerFromSeed(v.seed, () => "test-key-ed25519");
    const out = await signMessage({
      message,
      components: v.components,
      params: v.params,
      label: "sig-b26",
      sign: (d) => signer.sign(d),
    });
    expect(out.signatureInput).toBe(v.signatureInput);
    expect(out.signature).toBe(v.signature);
  });

  it("parses the published headers and the signature verifies with the published key", async () => {
    const headers = new Headers(v.request.headers);
    headers.set("signature-input", v.signatureInput);
    headers.set("signature", v.signature);
    const parsed = parseSignedMessage({ ...message, headers });
    expect(parsed.label).toBe("sig-b26");
    expect(parsed.params.get("keyid")).toBe("test-key-ed25519");
    expect(new TextDecoder().decode(parsed.base)).toBe(v.base);
    expect(await webCryptoVerify(v.publicKey, parsed.signature, parsed.base)).toBe(true);
  });

  it("a changed covered header changes the base, so the signature no longer verifies", async () => {
    const headers = new Headers(v.request.headers);
    headers.set("content-length", "19");
    headers.set("signature-input", v.signatureInput);
    headers.set("signature", v.signature);
    const parsed = parseSignedMessage({ ...message, headers });
    expect(await webCryptoVerify(v.publicKey, parsed.signature, parsed.base)).toBe(false);
  });
});

describe("signature header parsing", () => {
  const signed = (input: string, sig = "sig1=:AAAA:") => ({
    ...message,
    headers: new Headers({ ...v.request.headers, "signature-input": input, signature: sig }),
  });
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof SignatureError ? err.code : `unexpected ${String(err)}`;
    }
    return "no error";
  };

  it("refuses unsigned requests", () => {
    expect(code(() => parseSignedMessage(message))).toBe("missing_signature");
  });

  it.each([
    ["unterminated list", 'sig1=("@method"'],
    ["not a list", "sig1=123"],
    ["garbage", "%%%"],
    ["component parameters", 'sig1=("@method";req);created=1'],
    ["trailing comma", 'sig1=("@method");created=1,'],
  ])("refuses a malformed Signature-Input (%s)", (_name, input) => {
    expect(code(() => parseSignedMessage(signed(input)))).toBe("malformed_signature");
  });

  it("refuses duplicated covered components", () => {
    expect(code(() => parseSignedMessage(signed('sig1=("@method" "@method");created=1')))).toBe("malformed_signature");
  });

  it("refuses a covered header the request does not carry", () => {
    expect(code(() => parseSignedMessage(signed('sig1=("x-missing");created=1')))).toBe("missing_component");
  });

  it("refuses when Signature has no member for the label", () => {
    expect(code(() => parseSignedMessage(signed('sig1=("@method");created=1', "other=:AAAA:")))).toBe(
      "missing_signature",
    );
  });

  it("reads string escapes and integer parameters", () => {
    const parsed = parseSignedMessage(signed('sig1=("@method");created=5;nonce="a\\"b"'));
    expect(parsed.params.get("created")).toBe(5);
    expect(parsed.params.get("nonce")).toBe('a"b');
  });

  it("round-trips a signature over every derived component it supports", async () => {
    const { signer, publicKey } = await webCryptoSignerFromSeed(toBase64Url(new Uint8Array(32).fill(7)), (pk) => pk);
    const components = ["@method", "@authority", "@path", "@query", "@scheme", "@target-uri"];
    const out = await signMessage({ message, components, params: [["created", 1]], sign: (d) => signer.sign(d) });
    const parsed = parseSignedMessage({
      ...message,
      headers: new Headers({ "signature-input": out.signatureInput, signature: out.signature }),
    });
    expect(new TextDecoder().decode(parsed.base)).toContain('"@query": ?param=Value&Pet=dog');
    expect(await webCryptoVerify(publicKey, parsed.signature, parsed.base)).toBe(true);
    expect(await webCryptoVerify(publicKey, parsed.signature, utf8("other"))).toBe(false);
  });
});
