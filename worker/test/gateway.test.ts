import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GatewayMetadataSchema, jwkThumbprint, type RootInfo } from "@meshgate/schemas";
import workerPackage from "../package.json" with { type: "json" };
import worker from "../src/index.js";
import { BASE, clientFetch, createApiKey, errorBody } from "./helpers.js";

describe("gateway-level routes", () => {
  it("publishes its signing key as a JWK at /.well-known/meshgate.json, named by its RFC 7638 thumbprint", async () => {
    const res = await SELF.fetch(`${BASE}/.well-known/meshgate.json`);
    const meta = GatewayMetadataSchema.parse(await res.json());
    // The test secret is RFC 8032 TEST 1's seed, so the public key is the published one.
    const x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    expect(meta.keys).toEqual([
      {
        kid: await jwkThumbprint(x),
        alg: "ed25519",
        jwk: { kty: "OKP", crv: "Ed25519", x },
        status: "current",
        not_after: null,
      },
    ]);
    expect(env.GATEWAY_SIGNING_KEY).toBeTruthy();
  });

  it("gives every response an x-request-id and x-meshgate-node", async () => {
    const responses = [
      await SELF.fetch(`${BASE}/v1/nodes`),
      await SELF.fetch(`${BASE}/nope`),
      await SELF.fetch(`${BASE}/v1/models`),
    ];
    const ids = new Set<string>();
    for (const res of responses) {
      expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
      expect(res.headers.get("x-meshgate-node")).toBe("none");
      ids.add(res.headers.get("x-request-id")!);
    }
    expect(ids.size).toBe(3);
  });

  it("answers unknown routes and methods with a 404 in OpenAI's shape", async () => {
    const res = await SELF.fetch(`${BASE}/v1/chat/completions`);
    expect(res.status).toBe(404);
    expect(await errorBody(res)).toMatchObject({
      code: "unknown_url",
      message: "Invalid URL (GET /v1/chat/completions)",
    });
  });

  it("says what it is at GET /, with the SDK base URL and links that answer", async () => {
    const res = await SELF.fetch(`${BASE}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as RootInfo;
    expect(body).toEqual({
      name: "Meshgate",
      version: workerPackage.version,
      description: expect.stringContaining("OpenAI-compatible"),
      openai_base_url: `${BASE}/v1`,
      // The tests set no DOCS_URL.
      links: {
        docs: null,
        models: `${BASE}/v1/models`,
        metadata: `${BASE}/.well-known/meshgate.json`,
        openapi: `${BASE}/openapi.json`,
        status: `${BASE}/status`,
        usage: `${BASE}/usage`,
      },
    });
    expect((await SELF.fetch(body.links.metadata)).status).toBe(200);
    expect((await SELF.fetch(body.links.openapi)).status).toBe(200);
    expect((await SELF.fetch(body.links.status)).status).toBe(200);
    expect((await SELF.fetch(body.links.usage)).status).toBe(200);
    // The model list wants an API key, and says so in OpenAI's shape rather than "Invalid URL".
    expect(await errorBody(await SELF.fetch(body.links.models))).toMatchObject({ code: "invalid_api_key" });
  });

  it("links GET / to the docs once DOCS_URL is set", async () => {
    const docs = "https://docs.example/meshgate#readme";
    const request = new Request(`${BASE}/`) as Request<unknown, IncomingRequestCfProperties>;
    const res = await worker.fetch(request, { ...env, DOCS_URL: docs }, createExecutionContext());
    expect(await res.json()).toMatchObject({ links: { docs } });
  });

  it.each([
    ["GET", "/v1/responses"],
    ["GET", "/v1/responses/resp_123"],
    ["DELETE", "/v1/responses/resp_123"],
    ["POST", "/v1/responses/resp_123/cancel"],
    ["GET", "/v1/responses/resp_123/input_items"],
  ])(
    "answers %s %s (stored responses) with a 400 that says no response is kept, and what to do",
    async (method, path) => {
      const { key } = await createApiKey();
      const res = await clientFetch(path, key, { method });
      expect(res.status).toBe(400);
      expect(await errorBody(res)).toEqual({
        message: expect.stringContaining(`Meshgate does not store responses (${method} ${path})`),
        type: "invalid_request_error",
        param: "response_id",
        code: "unsupported_stateful_feature",
      });
    },
  );

  it.each([
    ["/v1/models", "GET"],
    ["/v1/usage", "GET"],
    ["/v1/chat/completions", "POST"],
    ["/v1/completions", "POST"],
    ["/v1/embeddings", "POST"],
  ])("%s refuses a missing, unknown or malformed key with 401", async (path, method) => {
    const init =
      method === "POST" ? { method, body: '{"model":"m","messages":[{"role":"user","content":"x"}]}' } : { method };
    const missing = await SELF.fetch(`${BASE}${path}`, init);
    expect(missing.status).toBe(401);
    expect(await errorBody(missing)).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    expect((await clientFetch(path, "mg-unknown", init)).status).toBe(401);
    expect((await SELF.fetch(`${BASE}${path}`, { ...init, headers: { authorization: "Basic abc" } })).status).toBe(401);
  });

  it("reports usage for a new key as empty, with validated ranges", async () => {
    const { key } = await createApiKey();
    const res = await clientFetch("/v1/usage?from=2020-01-01T00:00:00Z&to=1999999999", key);
    expect(await res.json()).toEqual({
      object: "usage",
      totals: {
        requests: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        cost: 0,
        estimated_requests: 0,
        non_billable_requests: 0,
      },
      data: [],
      has_more: false,
    });
    const bad = await clientFetch("/v1/usage?from=yesterday", key);
    expect(bad.status).toBe(400);
    expect((await errorBody(bad)).param).toBe("from");
    expect((await clientFetch("/v1/usage?from=2000&to=1000", key)).status).toBe(400);
    expect((await clientFetch("/v1/usage?limit=0", key)).status).toBe(400);
  });
});
