import { describe, expect, it } from "vitest";
import {
  DISPATCH_NODE_HEADER,
  ENDPOINT_PROOF_PATH,
  EndpointChallengeSchema,
  endpointProofStatement,
  jwkThumbprint,
  newSeed,
  toBase64Url,
  webCryptoSignerFromSeed,
  type WebCryptoKeyPair,
} from "@meshgate/schemas";
import { challengeNode, type ChallengedNode } from "./endpoint-proof.js";

const URL_ = "https://node.example:8790/some/path";

async function setup(): Promise<{ gateway: WebCryptoKeyPair; key: WebCryptoKeyPair; node: ChallengedNode }> {
  const gateway = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  const key = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  return { gateway, key, node: { id: key.signer.keyId, url: URL_, publicKey: key.publicKey, keyId: key.signer.keyId } };
}

/** A node answering with `answer(challenge)`; records what the gateway sent. */
function fakeNode(
  answer: (challenge: ReturnType<typeof EndpointChallengeSchema.parse>) => Promise<Response> | Response,
) {
  const seen: Request[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request.clone());
    return answer(EndpointChallengeSchema.parse(await request.json()));
  }) as typeof fetch;
  return { fetcher, seen };
}

const proofBy = async (
  key: WebCryptoKeyPair,
  challenge: ReturnType<typeof EndpointChallengeSchema.parse>,
  over: Record<string, unknown> = {},
) =>
  Response.json({
    object: "endpoint_proof",
    node_id: challenge.node_id,
    keyid: key.signer.keyId,
    signature: toBase64Url(await key.signer.sign(endpointProofStatement(challenge))),
    ...over,
  });

describe("challengeNode", () => {
  it("POSTs a signed, node-addressed challenge to the URL's origin and accepts the node key's signature", async () => {
    const { gateway, key, node } = await setup();
    const { fetcher, seen } = fakeNode((c) => proofBy(key, c));
    expect(await challengeNode(node, gateway.signer, Date.now(), fetcher)).toEqual({ ok: true });
    const sent = seen[0]!;
    expect(sent.url).toBe(`https://node.example:8790${ENDPOINT_PROOF_PATH}`);
    expect(sent.redirect).toBe("manual");
    expect(sent.headers.get(DISPATCH_NODE_HEADER)).toBe(node.id);
    expect(sent.headers.get("signature-input")).toContain(`"${DISPATCH_NODE_HEADER}"`);
    expect(await sent.json()).toMatchObject({ node_id: node.id, url: URL_ });
  });

  it("uses a fresh challenge every time, so an old proof cannot be replayed", async () => {
    const { gateway, key, node } = await setup();
    const challenges: string[] = [];
    const { fetcher } = fakeNode((c) => {
      challenges.push(c.challenge);
      return proofBy(key, c);
    });
    await challengeNode(node, gateway.signer, Date.now(), fetcher);
    await challengeNode(node, gateway.signer, Date.now(), fetcher);
    expect(new Set(challenges).size).toBe(2);
  });

  it.each([
    [
      "a signature by another key",
      async (c: ReturnType<typeof EndpointChallengeSchema.parse>) =>
        proofBy(await webCryptoSignerFromSeed(newSeed(), jwkThumbprint), c),
      "answered for another node or key",
    ],
    [
      "a proof for another node",
      async (c: ReturnType<typeof EndpointChallengeSchema.parse>, k: WebCryptoKeyPair) =>
        proofBy(k, c, { node_id: "x".repeat(43) }),
      "answered for another node or key",
    ],
    [
      "a signature over another challenge",
      async (c: ReturnType<typeof EndpointChallengeSchema.parse>, k: WebCryptoKeyPair) =>
        proofBy(k, { ...c, challenge: "A".repeat(43) }),
      "signature does not verify",
    ],
    [
      "a redirect",
      () => new Response(null, { status: 302, headers: { location: "http://127.0.0.1/" } }),
      "answered 302",
    ],
    ["an error", () => Response.json({ error: "no" }, { status: 404 }), "answered 404"],
    ["not JSON", () => new Response("hello"), "answer is not a small JSON document"],
    [
      "an endless body",
      () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(1024)) })),
      "answer is not a small JSON document",
    ],
  ])("refuses %s", async (_name, answer, reason) => {
    const { gateway, key, node } = await setup();
    const { fetcher } = fakeNode((c) => answer(c, key));
    expect(await challengeNode(node, gateway.signer, Date.now(), fetcher)).toEqual({ ok: false, reason });
  });

  it("reports an unreachable node", async () => {
    const { gateway, node } = await setup();
    const fetcher = (() => Promise.reject(new Error("connection refused"))) as typeof fetch;
    expect(await challengeNode(node, gateway.signer, Date.now(), fetcher)).toEqual({
      ok: false,
      reason: "unreachable (connection refused)",
    });
  });
});
