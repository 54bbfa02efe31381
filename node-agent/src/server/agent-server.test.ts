import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ENDPOINT_PROOF_PATH,
  EndpointProofSchema,
  endpointProofStatement,
  fromBase64,
  jwkThumbprint,
  newSeed,
  toBase64,
  toBase64Url,
  webCryptoSignerFromSeed,
  webCryptoVerify,
} from "@meshgate/schemas";
import { malleateSignature, nonCanonicalSignatureHeader } from "@meshgate/schemas/testing";
import { startSimBackend, type SimBackend } from "../../../tools/sim-backend/server.js";
import { startFakeGateway, type FakeGateway } from "../../test/fake-gateway.js";
import { send, signedRequest } from "../../test/gateway-request.js";
import { captureLog } from "../../test/log-capture.js";
import { startAgent, type RunningAgent } from "../agent.js";
import { generateIdentity } from "../identity/node-identity.js";

let backend: SimBackend;
let gateway: FakeGateway;
let agent: RunningAgent;
const chat = { model: "sim-small", messages: [{ role: "user", content: "ping pong" }], max_tokens: 3 };

beforeAll(async () => {
  backend = await startSimBackend({ log: () => {} });
  gateway = await startFakeGateway();
  agent = await startAgent({
    identity: await generateIdentity(),
    gatewayUrl: gateway.url,
    upstreamUrl: backend.url,
    listenHost: "127.0.0.1",
    listenPort: 0,
    capacity: 8,
    log: captureLog().log,
  });
});
afterAll(async () => {
  await agent.stop();
  await gateway.close();
  await backend.close();
});

/** A second agent of this suite's gateway, serving sim-small with one slot, in front of `upstreamUrl`. */
async function oneSlotAgent(upstreamUrl: string): Promise<RunningAgent> {
  return startAgent({
    identity: await generateIdentity(),
    gatewayUrl: gateway.url,
    upstreamUrl,
    listenHost: "127.0.0.1",
    listenPort: 0,
    models: [{ id: "sim-small" }],
    capacity: 1,
    log: () => {},
  });
}

const chatUrl = (): string => `${agent.publicUrl}/v1/chat/completions`;

async function expectRefused(res: Response, code: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(await res.json()).toEqual({
    error: { message: expect.any(String), type: "authentication_error", param: null, code },
  });
}

describe("agent server", () => {
  it("proxies a request the gateway signed with WebCrypto to the upstream", async () => {
    const res = await send(await signedRequest(gateway.signer, chatUrl(), chat, { nodeId: agent.nodeId }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = (await res.json()) as {
      choices: { message: { content: string } }[];
      usage: { completion_tokens: number };
    };
    expect(body.choices[0]!.message.content).toBe("ping pong ping");
    expect(body.usage.completion_tokens).toBe(3);
  });

  it("proxies embeddings and legacy completions too", async () => {
    const embed = await send(
      await signedRequest(
        gateway.signer,
        `${agent.publicUrl}/v1/embeddings`,
        { model: "sim-embed", input: "hi" },
        { nodeId: agent.nodeId },
      ),
    );
    expect(((await embed.json()) as { object: string }).object).toBe("list");
    const completion = await send(
      await signedRequest(
        gateway.signer,
        `${agent.publicUrl}/v1/completions`,
        { model: "sim-small", prompt: "a b", max_tokens: 2 },
        { nodeId: agent.nodeId },
      ),
    );
    expect(((await completion.json()) as { choices: { text: string }[] }).choices[0]!.text).toBe("a b");
  });

  it("passes upstream errors through unchanged", async () => {
    const res = await send(
      await signedRequest(gateway.signer, chatUrl(), { ...chat, model: "no-such-model" }, { nodeId: agent.nodeId }),
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "model_not_found" } });
  });

  it("refuses an unsigned request", async () => {
    await expectRefused(
      await fetch(chatUrl(), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chat),
      }),
      "missing_signature",
    );
  });

  it("refuses a body that differs from the signed one", async () => {
    const tampered = new TextEncoder().encode(JSON.stringify({ ...chat, max_tokens: 999 }));
    await expectRefused(
      await send(await signedRequest(gateway.signer, chatUrl(), chat, { nodeId: agent.nodeId, sentBody: tampered })),
      "bad_digest",
    );
  });

  it("refuses a signature made with another key under the gateway's keyid", async () => {
    const { signer: impostor } = await webCryptoSignerFromSeed(newSeed(), () => gateway.keyId);
    await expectRefused(
      await send(await signedRequest(impostor, chatUrl(), chat, { nodeId: agent.nodeId })),
      "bad_signature",
    );
  });

  it("refuses a signature by a key it does not know", async () => {
    const { signer: stranger } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
    await expectRefused(
      await send(await signedRequest(stranger, chatUrl(), chat, { nodeId: agent.nodeId })),
      "unknown_key",
    );
  });

  it("refuses a malleated signature (S + L) and a non-canonical base64 encoding of a valid one", async () => {
    const request = await signedRequest(gateway.signer, chatUrl(), chat, { nodeId: agent.nodeId });
    const header = request.init.headers["signature"]!;
    const bytes = fromBase64(/:(.*):/.exec(header)![1]!)!;
    const malleated = {
      ...request,
      init: {
        ...request.init,
        headers: { ...request.init.headers, signature: `sig1=:${toBase64(malleateSignature(bytes))}:` },
      },
    };
    await expectRefused(await send(malleated), "bad_signature");
    const reencoded = {
      ...request,
      init: { ...request.init, headers: { ...request.init.headers, signature: nonCanonicalSignatureHeader(header) } },
    };
    await expectRefused(await send(reencoded), "malformed_signature");
    // The untouched request still works: the refusals above did not burn its nonce.
    expect((await send(request)).status).toBe(200);
  });

  it("answers the gateway's endpoint challenge with the node key, for its own id and URL only", async () => {
    const challenge = {
      node_id: agent.nodeId,
      url: agent.publicUrl,
      challenge: toBase64Url(crypto.getRandomValues(new Uint8Array(32))),
    };
    const res = await send(
      await signedRequest(gateway.signer, `${agent.publicUrl}${ENDPOINT_PROOF_PATH}`, challenge, {
        nodeId: agent.nodeId,
      }),
    );
    expect(res.status).toBe(200);
    const proof = EndpointProofSchema.parse(await res.json());
    const identity = agent.identity();
    expect(proof).toMatchObject({ node_id: agent.nodeId, keyid: identity.signer.keyId });
    expect(
      await webCryptoVerify(identity.publicKey, fromBase64(proof.signature)!, endpointProofStatement(challenge)),
    ).toBe(true);

    const elsewhere = { ...challenge, url: "http://somewhere-else.example:8790" };
    const wrongUrl = await send(
      await signedRequest(gateway.signer, `${agent.publicUrl}${ENDPOINT_PROOF_PATH}`, elsewhere, {
        nodeId: agent.nodeId,
      }),
    );
    expect(wrongUrl.status).toBe(403);
    expect(await wrongUrl.json()).toMatchObject({ error: { type: "permission_error", code: "wrong_url" } });
    const unsigned = await fetch(`${agent.publicUrl}${ENDPOINT_PROOF_PATH}`, {
      method: "POST",
      body: JSON.stringify(challenge),
    });
    expect(unsigned.status).toBe(401);
  });

  it("refuses a stale signature", async () => {
    const request = await signedRequest(gateway.signer, chatUrl(), chat, {
      nodeId: agent.nodeId,
      now: Date.now() - 10 * 60_000,
    });
    await expectRefused(await send(request), "signature_expired");
  });

  it("refuses the same signed request a second time", async () => {
    const request = await signedRequest(gateway.signer, chatUrl(), chat, { nodeId: agent.nodeId });
    expect((await send(request)).status).toBe(200);
    await expectRefused(await send(request), "replayed_nonce");
  });

  it("refuses a signature made for another node's address", async () => {
    const request = await signedRequest(gateway.signer, "http://other-node.example:8790/v1/chat/completions", chat, {
      nodeId: agent.nodeId,
    });
    await expectRefused(await send({ ...request, url: chatUrl() }), "bad_signature");
  });

  it("refuses a dispatch addressed to another node, even relayed with that node's Host header", async () => {
    // A node that received a dispatch meant for it relays the exact bytes here, keeping its own Host.
    const otherNode = "A".repeat(43);
    const request = await signedRequest(gateway.signer, "http://other-node.example:8790/v1/chat/completions", chat, {
      nodeId: otherNode,
    });
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(chatUrl());
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { ...request.init.headers, host: "other-node.example:8790" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(request.init.body);
    });
    expect(status).toBe(401);
  });

  it("answers 404 in OpenAI's shape for anything but the inference endpoints", async () => {
    for (const res of [
      await fetch(`${agent.publicUrl}/v1/models`),
      await fetch(`${agent.publicUrl}/admin`, { method: "POST", body: "{}" }),
    ]) {
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { type: "not_found_error", param: null, code: "unknown_url" } });
    }
  });

  it("refuses a signed body over 8 MiB with 413, and an unsigned one with 401 as it is unsigned", async () => {
    const big = { ...chat, pad: "x".repeat(8 * 1024 * 1024) };
    const signed = await send(await signedRequest(gateway.signer, chatUrl(), big, { nodeId: agent.nodeId }));
    expect(signed.status).toBe(413);
    expect(await signed.json()).toMatchObject({ error: { code: "request_too_large" } });
    await expectRefused(
      await fetch(chatUrl(), { method: "POST", body: new Uint8Array(8 * 1024 * 1024 + 1) }),
      "missing_signature",
    );
  });

  it("answers 502 when its upstream is unreachable", async () => {
    const down = await startSimBackend({ log: () => {} });
    await down.close();
    const orphan = await oneSlotAgent(down.url);
    try {
      const res = await send(
        await signedRequest(gateway.signer, `${orphan.publicUrl}/v1/chat/completions`, chat, { nodeId: orphan.nodeId }),
      );
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: { message: expect.any(String), type: "api_error", param: null, code: "upstream_unreachable" },
      });
    } finally {
      await orphan.stop();
    }
  });

  it("answers 429 past its declared capacity, and serves again once a slot frees", async () => {
    const slow = await startSimBackend({ log: () => {}, latencyMs: 300 });
    const single = await oneSlotAgent(slow.url);
    try {
      const url = `${single.publicUrl}/v1/chat/completions`;
      const first = send(await signedRequest(gateway.signer, url, chat, { nodeId: single.nodeId }));
      // Wait until the agent has taken the first request in (it counts it from the moment it accepts it).
      while (single.inFlight() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await send(await signedRequest(gateway.signer, url, chat, { nodeId: single.nodeId }));
      expect(second.status).toBe(429);
      expect(second.headers.get("retry-after")).toBe("1");
      expect(await second.json()).toEqual({
        error: { message: expect.any(String), type: "rate_limit_error", param: null, code: "node_at_capacity" },
      });
      expect((await first).status).toBe(200);
      const third = await send(await signedRequest(gateway.signer, url, chat, { nodeId: single.nodeId }));
      expect(third.status).toBe(200);
    } finally {
      await single.stop();
      await slow.close();
    }
  });
});
