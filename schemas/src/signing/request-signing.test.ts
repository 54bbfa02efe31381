import { describe, expect, it } from "vitest";
import { toBase64Url } from "./base64.js";
import { utf8 } from "./bytes.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "./ed25519-webcrypto.js";
import { SignatureError } from "./http-signature.js";
import {
  checkSignedBody,
  signRequest,
  verifyRequest,
  verifySignedHeaders,
  type KeyVerifier,
  type Signer,
} from "./request-signing.js";

const NOW = 1_800_000_000_000;
const URL_ = "http://gateway.test:8787/v1/nodes/heartbeat";
const policy = { now: NOW, maxSkewSeconds: 30, maxAgeSeconds: 60 };

async function identity(fill: number): Promise<{ signer: Signer; publicKey: string }> {
  return webCryptoSignerFromSeed(toBase64Url(new Uint8Array(32).fill(fill)), (pk) => pk);
}

async function signed(opts: { body?: string; now?: number; signer?: Signer; ttlSeconds?: number } = {}) {
  const { signer } = opts.signer ? { signer: opts.signer } : await identity(1);
  const headers = new Headers({ "content-type": "application/json" });
  const body = utf8(opts.body ?? '{"hello":"world"}');
  await signRequest({
    method: "POST",
    url: URL_,
    headers,
    body,
    signer,
    now: opts.now ?? NOW,
    ...(opts.ttlSeconds ? { ttlSeconds: opts.ttlSeconds } : {}),
  });
  return { headers, body };
}

const verifyWithKeyIdAsPublicKey = (keyId: string, data: Uint8Array, sig: Uint8Array) =>
  webCryptoVerify(keyId, sig, data);

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (err) {
    return err instanceof SignatureError ? err.code : `unexpected ${String(err)}`;
  }
}

describe("Meshgate request signing profile", () => {
  it("covers method, authority, path and content-digest with created, expires, nonce, keyid and alg", async () => {
    const { headers } = await signed();
    expect(headers.get("content-digest")).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    expect(headers.get("signature-input")).toMatch(
      /^sig1=\("@method" "@authority" "@path" "content-digest"\);created=\d+;expires=\d+;nonce="[0-9a-f]{32}";keyid="[\w-]{43}";alg="ed25519"$/,
    );
  });

  it("accepts its own signature and reports who signed", async () => {
    const { signer } = await identity(1);
    const { headers, body } = await signed({ signer });
    const verified = await verifyRequest({
      message: { method: "POST", url: URL_, headers },
      body,
      policy,
      verify: verifyWithKeyIdAsPublicKey,
    });
    expect(verified.keyId).toBe(signer.keyId);
    expect(verified.expires - verified.created).toBe(30);
  });

  it("refuses a body changed after signing", async () => {
    const { headers } = await signed();
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body: utf8('{"hello":"WORLD"}'),
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("bad_digest");
  });

  it("verifies the signature from the headers alone, then the body against the signed digest", async () => {
    const { signer } = await identity(1);
    const { headers, body } = await signed({ signer });
    const verified = await verifySignedHeaders({
      message: { method: "POST", url: URL_, headers },
      policy,
      verify: verifyWithKeyIdAsPublicKey,
    });
    expect(verified).toMatchObject({ keyId: signer.keyId, contentDigest: headers.get("content-digest") });
    await expect(checkSignedBody(verified.contentDigest, body)).resolves.toBeUndefined();
    expect(await failure(checkSignedBody(verified.contentDigest, utf8('{"hello":"WORLD"}')))).toBe("bad_digest");
  });

  it("refuses headers that cannot be valid without looking at any body: stale, unknown key, forged", async () => {
    const check = (headers: Headers, verify: KeyVerifier = verifyWithKeyIdAsPublicKey) =>
      failure(verifySignedHeaders({ message: { method: "POST", url: URL_, headers }, policy, verify }));
    expect(await check((await signed({ now: NOW - 10 * 60_000 })).headers)).toBe("signature_expired");
    expect(await check((await signed()).headers, () => Promise.resolve(null))).toBe("unknown_key");
    const { headers } = await signed();
    const { headers: other } = await signed({ signer: (await identity(2)).signer });
    headers.set("signature", other.get("signature")!);
    expect(await check(headers)).toBe("bad_signature");
  });

  it("refuses a digest header replaced to match a new body", async () => {
    const { headers } = await signed();
    const { headers: other, body } = await signed({ body: "{}" });
    headers.set("content-digest", other.get("content-digest")!);
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("bad_signature");
  });

  it("refuses the same signature on another path or host", async () => {
    const { headers, body } = await signed();
    for (const url of ["http://gateway.test:8787/v1/other", "http://evil.test:8787/v1/nodes/heartbeat"]) {
      expect(
        await failure(
          verifyRequest({
            message: { method: "POST", url, headers },
            body,
            policy,
            verify: verifyWithKeyIdAsPublicKey,
          }),
        ),
      ).toBe("bad_signature");
    }
  });

  it("refuses signatures that are too old, expired, or from the future", async () => {
    const check = async (signedAt: number, ttlSeconds?: number) => {
      const { headers, body } = await signed({ now: signedAt, ...(ttlSeconds ? { ttlSeconds } : {}) });
      return failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      );
    };
    expect(await check(NOW - 31_000)).toBe("signature_expired"); // expires passed
    expect(await check(NOW - 120_000, 600)).toBe("signature_expired"); // older than maxAge despite a long expiry
    expect(await check(NOW + 60_000)).toBe("signature_not_yet_valid");
    expect(await check(NOW + 20_000)).toBe("accepted"); // within skew
  });

  it("reports an unknown key and a wrong key differently", async () => {
    const { headers, body } = await signed();
    const message = { method: "POST", url: URL_, headers };
    expect(await failure(verifyRequest({ message, body, policy, verify: async () => null }))).toBe("unknown_key");
    const other = await identity(2);
    expect(
      await failure(
        verifyRequest({ message, body, policy, verify: (_k, d, s) => webCryptoVerify(other.publicKey, s, d) }),
      ),
    ).toBe("bad_signature");
  });

  it("refuses a signature that does not cover the body digest", async () => {
    const { headers, body } = await signed();
    headers.set("signature-input", headers.get("signature-input")!.replace(' "content-digest"', ""));
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("insufficient_coverage");
  });

  it("refuses another algorithm", async () => {
    const { headers, body } = await signed();
    headers.set("signature-input", headers.get("signature-input")!.replace('alg="ed25519"', 'alg="hmac-sha256"'));
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("unsupported_algorithm");
  });

  it("refuses an oversized nonce before checking the signature, so nonce stores stay small", async () => {
    const { signer } = await identity(1);
    const headers = new Headers({ "content-type": "application/json" });
    const body = utf8("{}");
    await signRequest({ method: "POST", url: URL_, headers, body, signer, now: NOW, nonce: "n".repeat(65) });
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("malformed_signature");
  });

  it("refuses a covered component that is not a field name (instead of letting Headers.get throw)", async () => {
    const { headers, body } = await signed();
    headers.set(
      "signature-input",
      headers.get("signature-input")!.replace('"content-digest"', '"content-digest" "bad name"'),
    );
    expect(
      await failure(
        verifyRequest({
          message: { method: "POST", url: URL_, headers },
          body,
          policy,
          verify: verifyWithKeyIdAsPublicKey,
        }),
      ),
    ).toBe("malformed_signature");
  });
});
