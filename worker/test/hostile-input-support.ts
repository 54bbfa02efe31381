// Plumbing for the hostile-input battery: a request as data (so fast-check prints it as the counterexample), the
// check that a refusal is in OpenAI's error shape, node-signed raw bodies, and a snapshot of the gateway's durable
// state.
import { createExecutionContext, env, runInDurableObject, SELF, waitOnExecutionContext } from "cloudflare:test";
import { openAIErrorProblem, parseOpenAIError, signNodeRequest } from "@meshgate/schemas/testing";
import { listAllKeys } from "../src/durable/api-keys/key-index.js";
import { keyAccount, nodeRegistry } from "../src/durable/names.js";
import worker from "../src/index.js";
import { BASE, type TestNode } from "./helpers.js";

/** One generated request. Headers are appended in order, so a repeated name is a duplicated header. */
export interface FuzzRequest {
  method: string;
  /** Path and query, appended to BASE verbatim. */
  path: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Uint8Array;
}

export function buildHeaders(req: FuzzRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of req.headers) headers.append(name, value);
  return headers;
}

/**
 * Calls the Worker's fetch handler directly, in this runtime, with a fresh execution context, and waits for its
 * waitUntil work. Not SELF.fetch: in this pool version each SELF.fetch costs more than the one before (4 ms per
 * request at first, ~100 ms after 600 in one file), which would put thousands out of reach.
 */
export async function handle(path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  // The handler is typed for requests that arrived from the network (with `cf` metadata); this one was made here.
  const request = new Request(`${BASE}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export function send(req: FuzzRequest, headers: Headers = buildHeaders(req)): Promise<Response> {
  // GET and HEAD may not carry a body in fetch(); generators only attach bodies to other methods.
  return handle(req.path, { method: req.method, headers, ...(req.body ? { body: req.body } : {}) });
}

/** Through the runtime's HTTP entry point, for the few checks that should see exactly what a client sees. */
export function viaSelf(path: string, init: RequestInit): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

function preview(req: FuzzRequest, headers: Headers): string {
  const body = req.body ? new TextDecoder().decode(req.body.subarray(0, 300)) : "";
  const size = req.body ? ` (${req.body.byteLength} bytes)` : "";
  return `${req.method} ${req.path}\n  headers: ${JSON.stringify([...headers])}\n  body${size}: ${JSON.stringify(body)}`;
}

/**
 * Asserts a 4xx in OpenAI's error shape: exactly {"error":{message,type,param,code}}, param and code string|null.
 * `allowed` narrows the status where the request's construction determines it. Throws with request and response.
 */
export async function expectOpenAIError(
  res: Response,
  req: FuzzRequest,
  allowed: readonly number[] | null = null,
  headers = buildHeaders(req),
): Promise<string | null> {
  const text = await res.text();
  const fail = (why: string): never => {
    throw new Error(`${why}\nrequest: ${preview(req, headers)}\nresponse: ${res.status} ${text.slice(0, 500)}`);
  };
  if (res.status < 400 || res.status >= 500) fail(`expected a 4xx, got ${res.status}`);
  if (allowed && !allowed.includes(res.status)) fail(`expected one of ${allowed.join(", ")}, got ${res.status}`);
  if (!(res.headers.get("content-type") ?? "").includes("application/json"))
    fail("the error is not served as application/json");
  const problem = openAIErrorProblem(text);
  if (problem) fail(problem);
  return parseOpenAIError(text).code;
}

/** Signs arbitrary bytes as `node` would sign a POST to `path` (helpers.signNodeRequest only signs JSON values). */
export async function signRaw(node: TestNode, path: string, body: Uint8Array, headers: Headers): Promise<void> {
  await signNodeRequest({ url: `${BASE}${path}`, body, headers, publicKey: node.publicKey, signer: node.signer });
}

/**
 * Everything the battery must leave untouched: every registry row (minus what moves with the clock or with other
 * nodes' heartbeats), every API key, and the account (limits, usage) of the key the battery used.
 */
export async function durableState(keyId: string): Promise<unknown> {
  const nodes = await runInDurableObject(nodeRegistry(env), (registry) => registry.list(Date.now()));
  const stable = nodes.map((n) => ({
    id: n.id,
    keyid: n.keyid,
    public_key: n.public_key,
    url: n.url,
    models: n.models,
    capacity: n.capacity,
    registered: n.registered,
    latency_ms: n.latency_ms,
    requests: n.requests,
    endpoint_verified: n.endpoint_verified,
    banned: n.banned,
    ban_reason: n.ban_reason,
  }));
  // Every shard: a hostile request must not have made or changed a key anywhere.
  const keys = await listAllKeys(env, 0);
  const account = keyAccount(env, keyId);
  const usage = await runInDurableObject(account, (store) =>
    store.usage({ from: 0, to: Number.MAX_SAFE_INTEGER, group_by: null, limit: 10_000 }),
  );
  const limits = await runInDurableObject(account, (store) => store.view(0));
  return { nodes: stable, keys, usage, limits };
}
