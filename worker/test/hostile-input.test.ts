// The hostile-input battery: thousands of generated malformed requests to every public endpoint. Each request is
// invalid by construction, so the only right answer is a 4xx in OpenAI's error shape; and none may change the node
// registry, the API keys or the usage ledger.
import { env } from "cloudflare:test";
import fc from "fast-check";
import { HeartbeatSchema, KEY_ROTATION_PATH, KeyRotationRequestSchema, utf8 } from "@meshgate/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, newNode, registerRoutable, type TestNode } from "./helpers.js";
import {
  buildHeaders,
  durableState,
  expectOpenAIError,
  handle,
  send,
  signRaw,
  viaSelf,
  type FuzzRequest,
} from "./hostile-input-support.js";
import {
  badAuthorization,
  CLIENT_ENDPOINTS,
  contentTypes,
  headerMutation,
  headerValue,
  mutateHeaders,
  noiseHeaders,
  query,
  segment,
  signatureHeaders,
  trailing,
  type HeaderList,
} from "./hostile-input-requests.js";
import { FUZZ_MODEL, hostileBody, invalidFor, type BodyShape } from "./hostile-input-values.js";
import { refusedNodeMessage, wellFormedInference } from "./hostile-input-wellformed.js";
import { adminShapes, oversized, ROUTES, usageQuery, wrongMethodOrPath } from "./hostile-input-routes.js";

/** A property's budget: long enough for a slow 2-core machine, with shrinking. */
const PROPERTY_TIMEOUT_MS = 60_000;

/**
 * Per endpoint label, how many answers of each status and code: printed at the end, to show what the battery reached.
 */
const tally = new Map<string, Map<string, number>>();

function count(label: string, outcome: string): void {
  const byOutcome = tally.get(label) ?? new Map<string, number>();
  byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
  tally.set(label, byOutcome);
}

/** Sends, checks, and tallies. */
async function probe(
  label: string,
  req: FuzzRequest,
  allowed: readonly number[],
  headers = buildHeaders(req),
): Promise<void> {
  const res = await send(req, headers);
  const code = await expectOpenAIError(res, req, allowed, headers);
  count(label, `${res.status} ${code}`);
}

function run<T>(arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>): Promise<void> {
  return fc.assert(fc.asyncProperty(arb, check), { numRuns });
}

const post = (path: string, headers: HeaderList, body?: Uint8Array): FuzzRequest => ({
  method: "POST",
  path,
  headers,
  ...(body ? { body } : {}),
});

describe("hostile-input battery", () => {
  let apiKey: { id: string; key: string };
  let node: TestNode;
  let heartbeatShape: BodyShape;
  let rotationShape: BodyShape;
  let otherKey: string;
  let before: unknown;

  beforeAll(async () => {
    apiKey = await createApiKey("hostile-input");
    // One registered, routable node: the battery must neither ban it nor touch its row.
    node = await newNode();
    expect(
      (
        await registerRoutable(node, {
          url: "http://127.0.0.1:9/",
          models: [{ id: "hostile-served-model", owned_by: "test" }],
        })
      ).status,
    ).toBe(200);
    const other = await newNode();
    otherKey = other.publicKey;
    heartbeatShape = {
      base: {
        node_id: node.id,
        url: "http://127.0.0.1:9/",
        models: [{ id: "m" }],
        capacity: 8,
        in_flight: 0,
        timestamp: Date.now(),
        seq: 99,
      },
      fields: [
        ["node_id"],
        ["url"],
        ["models"],
        ["models", 0],
        ["models", 0, "id"],
        ["models", 0, "owned_by"],
        ["capacity"],
        ["in_flight"],
        ["timestamp"],
        ["seq"],
      ],
      fix: (v) => v,
    };
    rotationShape = {
      base: {
        node_id: node.id,
        new_key: { kty: "OKP", crv: "Ed25519", x: other.publicKey },
        timestamp: Date.now(),
        new_key_signature: "A".repeat(86),
      },
      fields: [
        ["node_id"],
        ["new_key"],
        ["new_key", "kty"],
        ["new_key", "crv"],
        ["new_key", "x"],
        ["timestamp"],
        ["new_key_signature"],
      ],
      fix: (v) => v,
    };
    before = await durableState(apiKey.id);
  });

  afterAll(() => {
    const lines = [...tally].map(
      ([label, byStatus]) =>
        `  ${[...byStatus.values()].reduce((a, b) => a + b)}\t${label}\t${[...byStatus]
          .sort()
          .map(([outcome, n]) => `${outcome}×${n}`)
          .join(", ")}`,
    );
    const total = [...tally.values()].flatMap((m) => [...m.values()]).reduce((a, b) => a + b, 0);
    console.log(`hostile-input: ${total} requests\n${lines.join("\n")}`);
  });

  const bearer = (): HeaderList => [["authorization", `Bearer ${apiKey.key}`]];

  it(
    "client API with a valid key: malformed bodies and unserved models are 400/404/413/415",
    async () => {
      const arb = fc.constantFrom(...CLIENT_ENDPOINTS).chain((ep) =>
        fc.record({
          path: fc.constant(ep.path),
          body: hostileBody(ep.shape),
          cts: contentTypes,
          noise: noiseHeaders,
          q: query,
          t: trailing,
        }),
      );
      await run(arb, 2_000, ({ path, body, cts, noise, q, t }) =>
        probe(path, post(path + t + q, [...bearer(), ...cts, ...noise], body), [400, 404, 413, 415]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "client API with a valid key: well-formed requests with odd contents for unserved models are exactly 404",
    async () => {
      await run(fc.record({ req: wellFormedInference, q: query }), 600, ({ req, q }) =>
        probe(
          `${req.path} (well-formed)`,
          post(req.path + q, [...bearer(), ["content-type", "application/json"]], utf8(JSON.stringify(req.body))),
          [404],
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "client API without a valid key is 401 whatever the body, path or query",
    async () => {
      const route = fc.oneof(
        fc
          .constantFrom(...CLIENT_ENDPOINTS)
          .chain((ep) => hostileBody(ep.shape).map((body) => ({ method: "POST", path: ep.path, body }))),
        fc.constantFrom({ method: "GET", path: "/v1/models" }, { method: "GET", path: "/v1/usage" }),
        segment(FUZZ_MODEL).map((s) => ({ method: "GET", path: `/v1/models/${s}` })),
      );
      const arb = fc.record({ route, auth: badAuthorization(apiKey.key), cts: contentTypes, q: query });
      await run(arb, 600, ({ route: r, auth, cts, q }) =>
        probe(
          `${r.method} ${r.path.startsWith("/v1/models/") ? "/v1/models/:id" : r.path} (no valid key)`,
          { ...r, path: r.path + q, headers: [...auth, ...cts] },
          [401],
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "GET /v1/models/:id for ids no node serves, odd or badly escaped, is 400/404",
    async () => {
      await run(fc.tuple(segment(FUZZ_MODEL), query, noiseHeaders), 400, ([s, q, noise]) =>
        probe(
          "GET /v1/models/:id",
          { method: "GET", path: `/v1/models/${s}${q}`, headers: [...bearer(), ...noise] },
          [400, 404],
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "GET /v1/usage with an invalid from, to or limit is 400",
    async () => {
      await run(usageQuery, 400, (q) =>
        probe("GET /v1/usage", { method: "GET", path: `/v1/usage?${q}`, headers: bearer() }, [400]),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  for (const path of ["/v1/nodes/heartbeat", KEY_ROTATION_PATH]) {
    const schema = path === KEY_ROTATION_PATH ? KeyRotationRequestSchema : HeartbeatSchema;
    const shape = () => (path === KEY_ROTATION_PATH ? rotationShape : heartbeatShape);

    it(
      `${path}: unsigned or garbage-signed requests are 401`,
      async () => {
        const arb = fc.record({
          sig: signatureHeaders(node.id, node.publicKey),
          cts: contentTypes,
          body: hostileBody(shape()),
          q: query,
          t: trailing,
        });
        await run(arb, path === KEY_ROTATION_PATH ? 300 : 600, ({ sig, cts, body, q, t }) =>
          probe(`POST ${path} (unsigned)`, post(path + t + q, [...sig, ...cts], body), [401]),
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      `${path}: correctly signed requests with malformed bodies are 400`,
      async () => {
        const arb = fc.record({
          body: hostileBody(shape()).map(invalidFor(schema)),
          cts: contentTypes,
          q: query,
          t: trailing,
        });
        await run(arb, path === KEY_ROTATION_PATH ? 400 : 600, async ({ body, cts, q, t }) => {
          const req = post(path + t + q, cts, body);
          const headers = buildHeaders(req);
          // The signature covers the path as sent (trailing slashes included), so it verifies and the body is parsed.
          await signRaw(node, path + t, body, headers);
          await probe(`POST ${path} (signed, malformed body)`, req, [400], headers);
        });
      },
      PROPERTY_TIMEOUT_MS,
    );
  }

  it(
    "correctly signed, schema-valid node messages refused before the registry (stale clock, credentials in the URL, " +
      "forged new-key signature) are 400/401",
    async () => {
      await run(refusedNodeMessage(node, otherKey), 400, async (m) => {
        const req = post(m.path, [["content-type", "application/json"]], utf8(JSON.stringify(m.body)));
        const headers = buildHeaders(req);
        await signRaw(node, m.path, req.body ?? new Uint8Array(), headers);
        await probe(`POST ${m.path} (signed, well-formed, refused)`, req, [400, 401], headers);
      });
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "signed node requests whose signature headers were then broken are 400/401",
    async () => {
      const arb = fc.record({
        rotation: fc.boolean(),
        crossPath: fc.boolean(),
        mutation: headerMutation,
        body: fc
          .boolean()
          .chain((r) =>
            hostileBody(r ? rotationShape : heartbeatShape).map(
              invalidFor(r ? KeyRotationRequestSchema : HeartbeatSchema),
            ),
          ),
      });
      await run(arb, 400, async ({ rotation, crossPath, mutation, body }) => {
        const signedFor = rotation ? KEY_ROTATION_PATH : "/v1/nodes/heartbeat";
        const sentTo = crossPath ? (rotation ? "/v1/nodes/heartbeat" : KEY_ROTATION_PATH) : signedFor;
        const req = post(sentTo, [["content-type", "application/json"]], body);
        const headers = buildHeaders(req);
        await signRaw(node, signedFor, body, headers);
        mutateHeaders(headers, mutation);
        // Bodies fail both schemas, so a mutation that leaves the signature intact (a duplicated value) still ends in
        // 400.
        await probe(`POST ${sentTo} (signed, headers broken)`, req, [400, 401], headers);
      });
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "admin routes without the admin token are 401 whatever the body or id",
    async () => {
      // Real ids (the battery's key, the registered node) and made-up ones must be refused alike.
      const id = fc.oneof(fc.constant(null), segment("fuzz-"));
      const arb = fc.record({
        route: fc.constantFrom(...ROUTES.admin),
        id,
        auth: badAuthorization(env.ADMIN_TOKEN),
        body: hostileBody(adminShapes.key),
        cts: contentTypes,
      });
      await run(arb, 600, ({ route: r, id: made, auth, body, cts }) => {
        const path = r.path.replace(":key", made ?? apiKey.id).replace(":node", made ?? node.id);
        return probe(
          `${r.method} ${r.path} (no token)`,
          { method: r.method, path, headers: [...auth, ...cts], ...(r.method === "GET" ? {} : { body }) },
          [401],
        );
      });
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "admin routes with the token: malformed bodies and unknown ids are 400/404/413/415",
    async () => {
      const admin = (): HeaderList => [["authorization", `Bearer ${env.ADMIN_TOKEN}`]];
      const unknownNode = fc.oneof(
        segment("fuzz-"),
        fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).filter((id) => id !== node.id),
      );
      const arb = fc.oneof(
        fc.record({ body: hostileBody(adminShapes.key), cts: contentTypes }).map(({ body, cts }) => ({
          label: "POST /admin/keys",
          req: post("/admin/keys", [...admin(), ...cts], body),
          allowed: [400, 413, 415],
        })),
        segment("fuzz-").map((s) => ({
          label: "DELETE /admin/keys/:id",
          req: { method: "DELETE", path: `/admin/keys/${s}`, headers: admin() },
          allowed: [404],
        })),
        fc
          .record({
            id: fc.oneof(fc.constant(node.id), unknownNode),
            body: hostileBody(adminShapes.ban).filter((b) => b.byteLength > 0),
            cts: contentTypes,
          })
          .map(({ id, body, cts }) => ({
            label: "POST /admin/nodes/:id/ban",
            req: post(`/admin/nodes/${id}/ban`, [...admin(), ...cts], body),
            allowed: [400, 404, 413],
          })),
        unknownNode.map((id) => ({
          label: "POST /admin/nodes/:id/unban",
          req: post(`/admin/nodes/${id}/unban`, admin()),
          allowed: [404],
        })),
        segment("fuzz-").map((s) => ({
          label: "POST /admin/settlements/:id/abort",
          req: post(`/admin/settlements/${s}/abort`, admin()),
          allowed: [404],
        })),
      );
      await run(arb, 800, ({ label, req, allowed }) => probe(label, req, allowed));
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "unknown routes and wrong methods are 404, with or without credentials",
    async () => {
      const auth = fc.oneof(fc.constant<HeaderList>([]), fc.constant(bearer()), badAuthorization(apiKey.key));
      await run(fc.record({ target: wrongMethodOrPath, auth, q: query }), 400, ({ target, auth: a, q }) =>
        probe(
          "unknown route or method",
          { method: target.method, path: target.path + q, headers: a, ...(target.body ? { body: target.body } : {}) },
          [404],
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "bodies over each route's limit are 413, declared or streamed",
    async () => {
      await run(oversized, 24, async (o) => {
        const headers: HeaderList =
          o.auth === "client" ? bearer() : o.auth === "admin" ? [["authorization", `Bearer ${env.ADMIN_TOKEN}`]] : [];
        const path = o.path.replace(":node", node.id);
        const body = new Uint8Array(o.size).fill(o.fill);
        const req = post(path, headers, body);
        // A stream has no content-length, so the limit must be enforced while reading, not from the header.
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < body.byteLength; at += 256 * 1024)
              controller.enqueue(body.subarray(at, at + 256 * 1024));
            controller.close();
          },
        });
        const res = await handle(path, {
          method: "POST",
          headers: buildHeaders(req),
          body: o.streamed ? stream : body,
        });
        count(
          `POST ${o.path} (oversized${o.streamed ? ", streamed" : ""})`,
          `${res.status} ${await expectOpenAIError(res, req, [413])}`,
        );
      });
    },
    PROPERTY_TIMEOUT_MS,
  );

  // One property per route, so that each route's answer is reported on its own.
  const breakingOff = [
    { path: "/v1/chat/completions", auth: "client" },
    { path: "/v1/nodes/heartbeat", auth: "none" },
    { path: "/v1/nodes/rotate-key", auth: "none" },
    { path: "/admin/keys", auth: "admin" },
    { path: "/admin/nodes/:node/ban", auth: "admin" },
  ] as const;
  for (const t of breakingOff) {
    it(
      `POST ${t.path}: a body that breaks off mid-stream (the client's connection failing) is a 4xx, not a 500`,
      async () => {
        const arb = fc.record({
          prefix: fc.uint8Array({ maxLength: 2048 }),
          chunks: fc.integer({ min: 0, max: 3 }),
          declared: fc.boolean(),
        });
        await run(arb, 15, async ({ prefix, chunks, declared }) => {
          const headers: (readonly [string, string])[] =
            t.auth === "client"
              ? [...bearer()]
              : t.auth === "admin"
                ? [["authorization", `Bearer ${env.ADMIN_TOKEN}`]]
                : [];
          // A declared length promises more than the stream delivers before it fails.
          if (declared) headers.push(["content-length", String(prefix.byteLength + 100)]);
          const path = t.path.replace(":node", node.id);
          const req = post(path, headers, prefix);
          let pulls = 0;
          const body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (pulls++ < chunks) controller.enqueue(prefix.subarray(0, Math.ceil(prefix.byteLength / chunks)));
              else controller.error(new Error("the client's connection broke"));
            },
          });
          const res = await handle(path, { method: "POST", headers: buildHeaders(req), body });
          count(`POST ${t.path} (body breaks off)`, `${res.status} ${await expectOpenAIError(res, req)}`);
        });
      },
      PROPERTY_TIMEOUT_MS,
    );
  }

  it(
    "GET /v1/nodes and the well-known document stay 200 under odd queries and headers",
    async () => {
      await run(
        fc.record({ q: query, noise: noiseHeaders, auth: fc.array(headerValue, { maxLength: 1 }) }),
        60,
        async ({ q, noise, auth }) => {
          const headers = buildHeaders({
            method: "GET",
            path: "",
            headers: [...noise, ...auth.map((v) => ["authorization", v] as const)],
          });
          for (const [path, key, value] of [
            ["/v1/nodes", "object", "list"],
            ["/.well-known/meshgate.json", "issuer", "meshgate"],
          ] as const) {
            const res = await viaSelf(path + q, { headers });
            expect(res.status, `GET ${path}${q}`).toBe(200);
            expect(((await res.json()) as Record<string, unknown>)[key]).toBe(value);
          }
        },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it("leaves the node registry, the API keys and the usage ledger as they were", async () => {
    expect(await durableState(apiKey.id)).toEqual(before);
  });
});
