// GET /openapi.json against the running Worker: served, and real answers valid by the description's own schemas, so a
// route whose answer drifts from its description fails here.
import { SELF } from "cloudflare:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { adminFetch, BASE, clientFetch, createApiKey, newNode, registerRoutable } from "./helpers.js";

type Json = Record<string, unknown>;
interface Described {
  $ref?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: { $ref?: string } }>;
}

let doc: Json;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const fleet = inject("fleet");

beforeAll(async () => {
  const res = await SELF.fetch(`${BASE}/openapi.json`);
  doc = (await res.json()) as Json;
  ajv.addSchema(doc, "openapi.json");
});

/** What the description says `method path` answers with `status` (a shared error response followed). */
function described(method: string, path: string, status: number): Described {
  const paths = doc["paths"] as Record<string, Record<string, { responses: Record<string, Described> }>>;
  const answer = paths[path]?.[method]?.responses[String(status)];
  if (!answer) throw new Error(`no answer ${status} described for ${method} ${path}`);
  if (!answer.$ref) return answer;
  const responses = (doc["components"] as { responses: Record<string, Described> }).responses;
  return responses[answer.$ref.replace("#/components/responses/", "")] ?? {};
}

/** The gateway's own headers: each one an answer carries must be described for it. */
const OWN_HEADER = /^(x-meshgate-|x-ratelimit-|server-timing$|retry-after$|x-request-id$)/;

/**
 * Asserts the answer is what the description says for it: its status, content type, the gateway's headers, and its
 * body by the description's schema. Returns the body.
 */
async function expectDescribed(res: Response, method: string, path: string): Promise<unknown> {
  const answer = described(method, path, res.status);
  const headers = Object.keys(answer.headers ?? {}).map((h) => h.toLowerCase());
  expect([...res.headers.keys()].filter((h) => OWN_HEADER.test(h) && !headers.includes(h))).toEqual([]);
  expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  const type = res.headers.get("content-type")?.split(";")[0] ?? "";
  expect(Object.keys(answer.content ?? {})).toContain(type);
  if (type !== "application/json") return res.text();
  const body: unknown = await res.json();
  const validate = ajv.getSchema(`openapi.json${answer.content?.[type]?.schema.$ref}`);
  if (!validate) throw new Error(`the description's schema for ${method} ${path} does not compile`);
  expect(validate(body) ? [] : validate.errors).toEqual([]);
  return body;
}

describe("GET /openapi.json", () => {
  it("answers the description, public and cacheable", async () => {
    const res = await SELF.fetch(`${BASE}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
    expect(await res.json()).toMatchObject({ openapi: "3.1.0", info: { title: "Meshgate" } });
  });
});

describe("real answers match the description", () => {
  it("the error envelope of a 401", async () => {
    const res = await SELF.fetch(`${BASE}/v1/models`);
    expect(res.status).toBe(401);
    await expectDescribed(res, "get", "/v1/models");
  });

  it("the public documents", async () => {
    await expectDescribed(await SELF.fetch(`${BASE}/`), "get", "/");
    await expectDescribed(await SELF.fetch(`${BASE}/.well-known/meshgate.json`), "get", "/.well-known/meshgate.json");
    await expectDescribed(await SELF.fetch(`${BASE}/v1/settlements`), "get", "/v1/settlements");
  });

  it("the models and nodes a live node serves", async () => {
    const ack = await registerRoutable(await newNode());
    expect(ack.status).toBe(200);
    await expectDescribed(ack, "post", "/v1/nodes/heartbeat");
    const { key } = await createApiKey("openapi");
    const models = (await expectDescribed(await clientFetch("/v1/models", key), "get", "/v1/models")) as {
      data: { id: string }[];
    };
    expect(models.data.length).toBeGreaterThan(0);
    const model = await clientFetch(`/v1/models/${models.data[0]?.id}`, key);
    await expectDescribed(model, "get", "/v1/models/{id}");
    await expectDescribed(await SELF.fetch(`${BASE}/v1/nodes`), "get", "/v1/nodes");
    await expectDescribed(await adminFetch("/admin/nodes"), "get", "/admin/nodes");
  });

  it("usage, plain and grouped, and its refusals", async () => {
    const { key } = await createApiKey("openapi-usage");
    await expectDescribed(await clientFetch("/v1/usage", key), "get", "/v1/usage");
    await expectDescribed(await clientFetch("/v1/usage?group_by=day", key), "get", "/v1/usage");
    await expectDescribed(await adminFetch("/admin/usage?group_by=model"), "get", "/admin/usage");
    const refused = await clientFetch("/v1/usage?group_by=key", key);
    expect(refused.status).toBe(400);
    await expectDescribed(refused, "get", "/v1/usage");
  });

  it("the admin's keys: created, listed, changed, revoked", async () => {
    const json = { "content-type": "application/json" };
    const body = JSON.stringify({ name: "openapi-admin", rpm: 60 });
    const res = await adminFetch("/admin/keys", { method: "POST", body, headers: json });
    const { id } = (await expectDescribed(res, "post", "/admin/keys")) as { id: string };
    await expectDescribed(await adminFetch("/admin/keys"), "get", "/admin/keys");
    const patch = await adminFetch(`/admin/keys/${id}`, { method: "PATCH", body: '{"tpm":1000}', headers: json });
    await expectDescribed(patch, "patch", "/admin/keys/{id}");
    await expectDescribed(await adminFetch(`/admin/keys/${id}`, { method: "DELETE" }), "delete", "/admin/keys/{id}");
  });

  it("inference answers: a chat completion, streamed and not, and embeddings, for a key with limits", async () => {
    for (const model of ["chat-openapi", "embed-openapi"]) {
      const res = await registerRoutable(await newNode(), { url: fleet.agent, models: [{ id: model }] });
      expect(res.status).toBe(200);
    }
    // With limits, so its answers carry the rate-limit headers too.
    const created = await adminFetch("/admin/keys", {
      method: "POST",
      body: JSON.stringify({ name: "openapi-inference", rpm: 600, tpm: 1_000_000 }),
      headers: { "content-type": "application/json" },
    });
    const { key } = (await created.json()) as { key: string };
    const messages = [{ role: "user", content: "describe yourself" }];
    const chat = (stream: boolean) =>
      clientFetch("/v1/chat/completions", key, {
        method: "POST",
        body: JSON.stringify({ model: "chat-openapi", messages, max_tokens: 5, stream }),
      });
    const whole = await chat(false);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("x-meshgate-attempts")).toBe("1");
    expect(whole.headers.get("x-ratelimit-limit-requests")).toBe("600");
    await expectDescribed(whole, "post", "/v1/chat/completions");
    const streamed = await chat(true);
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await expectDescribed(streamed, "post", "/v1/chat/completions");
    const body = JSON.stringify({ model: "embed-openapi", input: ["one", "two"] });
    await expectDescribed(await clientFetch("/v1/embeddings", key, { method: "POST", body }), "post", "/v1/embeddings");
  });
});
