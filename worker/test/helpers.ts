// Shared steps of the Workers-runtime integration tests: admin calls, API keys, signed heartbeats.
import { env, SELF } from "cloudflare:test";
import { inject } from "vitest";
import {
  bodyDigest,
  encodeReceipt,
  nodeAmount,
  receiptBytes,
  receiptLeaf,
  toBase64Url,
  toHex,
  utf8,
  type Heartbeat,
  type OpenAIErrorBody,
  type Price,
  type Signer,
} from "@meshgate/schemas";
import type { Earning } from "../src/billing/records.js";
import {
  jsonBody,
  newTestNode,
  parseOpenAIError,
  signNodeRequest as signAsNode,
  type TestIdentity,
} from "@meshgate/schemas/testing";
import { admissionCell, admissionCells, nodeRegistry } from "../src/durable/names.js";
import { cellOf } from "../src/routing/cells.js";
import { invalidateNodeSnapshot } from "../src/mesh/node-snapshot.js";

export const BASE = "http://gateway.test";

export function adminFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

export async function createApiKey(name = "test"): Promise<{ id: string; key: string }> {
  const res = await adminFetch("/admin/keys", {
    method: "POST",
    body: JSON.stringify({ name }),
    headers: { "content-type": "application/json" },
  });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export function clientFetch(path: string, key: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  if (init.body) headers.set("content-type", "application/json");
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

export interface TestNode extends TestIdentity {
  seq: number;
}

let nodeCounter = 0;

/** A fresh node identity (deterministic per test run, distinct per call), or the one of a given seed (base64url). */
export async function newNode(seedText?: string): Promise<TestNode> {
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  seed[0] = ++nodeCounter;
  return { ...(await newTestNode(seedText ?? toBase64Url(seed))), seq: 0 };
}

export function heartbeatBody(node: TestNode, over: Partial<Heartbeat> = {}): Heartbeat {
  node.seq++;
  return {
    node_id: node.id,
    // Somewhere that answers (the fleet's agent, which turns the endpoint challenge down), so the challenge sent
    // after each registration fails quietly instead of as a refused connection.
    url: `${inject("fleet").agent}/`,
    models: [{ id: "test-model", owned_by: "test" }],
    capacity: 8,
    in_flight: 0,
    timestamp: Date.now(),
    seq: node.seq,
    ...over,
  };
}

export interface SignedHeartbeat {
  body: Uint8Array;
  headers: Headers;
}

export interface SignOptions {
  now?: number;
  signer?: Signer;
  /** Sent as meshgate-node-key; the node's own key by default. */
  publicKey?: string;
  path?: string;
}

/** Signs `body` (a JSON value) as `node` would for a POST to `opts.path`, the heartbeat path by default. */
export async function signNodeRequest(node: TestNode, body: unknown, opts: SignOptions = {}): Promise<SignedHeartbeat> {
  const bytes = jsonBody(body);
  const headers = await signAsNode({
    url: `${BASE}${opts.path ?? "/v1/nodes/heartbeat"}`,
    body: bytes,
    publicKey: opts.publicKey ?? node.publicKey,
    signer: opts.signer ?? node.signer,
    now: opts.now,
  });
  return { body: bytes, headers };
}

export const signHeartbeat = signNodeRequest;

export function sendHeartbeat(signed: SignedHeartbeat): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/nodes/heartbeat`, { method: "POST", body: signed.body, headers: signed.headers });
}

export async function register(node: TestNode, over: Partial<Heartbeat> = {}): Promise<Response> {
  return sendHeartbeat(await signHeartbeat(node, heartbeatBody(node, over)));
}

/**
 * Marks the node's current URL as proven, as a successful endpoint challenge would. The Workers-runtime fleet serves
 * many test nodes from one agent that holds none of their keys; the challenge itself is tested end to end.
 */
export async function markEndpointProven(node: TestNode, url: string): Promise<void> {
  if (!(await nodeRegistry(env).endpointProven(node.id, url, node.signer.keyId, Date.now())))
    throw new Error(`node ${node.id} is not registered at ${url}`);
  invalidateNodeSnapshot();
  // The registry tells the node's admission cell too, without waiting; waited for here so the next request sees it.
  await admissionCell(env, cellOf(node.id, admissionCells(env))).invalidate();
}

/** Registers the node and makes it routable at once. */
export async function registerRoutable(node: TestNode, over: Partial<Heartbeat> = {}): Promise<Response> {
  const body = heartbeatBody(node, over);
  const res = await sendHeartbeat(await signHeartbeat(node, body));
  if (res.ok) await markEndpointProven(node, body.url);
  return res;
}

/** Asserts the OpenAI error shape and returns it. */
export async function errorBody(res: Response): Promise<OpenAIErrorBody["error"]> {
  return parseOpenAIError(await res.text());
}

/** A billable receipt signed by the node, as the request path hands it to the node's earnings shard. */
export async function signedEarning(
  node: TestNode,
  request_id: string,
  created: number,
  tokens: { prompt_tokens: number; completion_tokens: number },
  price: Price,
): Promise<Earning> {
  const receipt = {
    request_id,
    node_id: node.id,
    model: "test-model",
    ...tokens,
    price,
    body_digest: bodyDigest(utf8(request_id)),
    created,
  };
  const bytes = receiptBytes(receipt);
  return {
    request_id,
    node_id: node.id,
    receipt: encodeReceipt(bytes, await node.signer.sign(bytes)),
    leaf: toHex(receiptLeaf(bytes)),
    ...tokens,
    amount: nodeAmount(receipt, price),
    created,
  };
}
