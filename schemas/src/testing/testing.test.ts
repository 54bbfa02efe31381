// The shared test helpers hold to what the tests that use them assume: a node's and the gateway's signatures verify
// as the receiving side verifies them, and the error checker accepts exactly OpenAI's shape.
import { describe, expect, it } from "vitest";
import { webCryptoVerify } from "../signing/ed25519-webcrypto.js";
import { NODE_KEY_HEADER, nodeKeyVerifier } from "../signing/node-key.js";
import { DISPATCH_NODE_HEADER, verifyRequest } from "../signing/request-signing.js";
import { openAIErrorProblem, parseOpenAIError } from "./openai-error.js";
import { jsonBody, signGatewayRequest, signNodeRequest } from "./request-signers.js";
import { newTestNode } from "./test-node.js";

const NOW = 1_800_000_000_000;
const URL_ = "http://gateway.test/v1/nodes/heartbeat";
const policy = { now: NOW, maxSkewSeconds: 30, maxAgeSeconds: 60 };
const message = (headers: Headers) => ({ method: "POST", url: URL_, headers });

describe("signNodeRequest", () => {
  it(
    "signs as a node: its key in meshgate-node-key, its thumbprint as keyid, verified as the " + "gateway does",
    async () => {
      const node = await newTestNode();
      const body = jsonBody({ node_id: node.id });
      const headers = await signNodeRequest({
        url: URL_,
        body,
        publicKey: node.publicKey,
        signer: node.signer,
        now: NOW,
      });
      expect(headers.get("content-type")).toBe("application/json");
      expect(headers.get(NODE_KEY_HEADER)).toBe(node.publicKey);
      const verify = nodeKeyVerifier(headers.get(NODE_KEY_HEADER), webCryptoVerify);
      const verified = await verifyRequest({ message: message(headers), body, policy, verify });
      expect(verified.keyId).toBe(node.id);
    },
  );

  it("completes headers it is given, adding no content type", async () => {
    const node = await newTestNode();
    const headers = new Headers({ "x-extra": "1" });
    await signNodeRequest({
      url: URL_,
      body: new Uint8Array(),
      headers,
      publicKey: node.publicKey,
      signer: node.signer,
    });
    expect([...headers.keys()]).toEqual(["content-digest", NODE_KEY_HEADER, "signature", "signature-input", "x-extra"]);
  });
});

describe("signGatewayRequest", () => {
  it("covers the node the dispatch is addressed to and carries the request id", async () => {
    const gateway = await newTestNode();
    const body = jsonBody({ model: "m" });
    const headers = await signGatewayRequest({
      url: URL_,
      body,
      signer: gateway.signer,
      nodeId: "node-1",
      requestId: "req_1",
      now: NOW,
    });
    expect(headers.get(DISPATCH_NODE_HEADER)).toBe("node-1");
    expect(headers.get("x-request-id")).toBe("req_1");
    const verify = async (keyId: string, data: Uint8Array, signature: Uint8Array) =>
      keyId === gateway.signer.keyId ? webCryptoVerify(gateway.publicKey, signature, data) : null;
    await expect(
      verifyRequest({ message: message(headers), body, policy, verify, requiredComponents: [DISPATCH_NODE_HEADER] }),
    ).resolves.toMatchObject({ keyId: gateway.signer.keyId });
  });
});

describe("OpenAI error bodies", () => {
  it("accepts exactly {error: {message, type, param, code}}, param and code string or null", () => {
    const ok = { error: { message: "m", type: "invalid_request_error", param: null, code: "c" } };
    expect(openAIErrorProblem(JSON.stringify(ok))).toBeNull();
    expect(parseOpenAIError(JSON.stringify(ok))).toEqual(ok.error);
  });

  it.each([
    ["not JSON", "{nope"],
    ["no error member", "{}"],
    ["a second member", '{"error":{"message":"m","type":"t","param":null,"code":null},"x":1}'],
    ["a missing field", '{"error":{"message":"m","type":"t","param":null}}'],
    ["an extra field", '{"error":{"message":"m","type":"t","param":null,"code":null,"stack":"s"}}'],
    ["a numeric code", '{"error":{"message":"m","type":"t","param":null,"code":400}}'],
    ["a null type", '{"error":{"message":"m","type":null,"param":null,"code":null}}'],
    ["an array", "[]"],
  ])("refuses %s", (_name, text) => {
    expect(openAIErrorProblem(text)).not.toBeNull();
    expect(() => parseOpenAIError(text)).toThrow();
  });
});
