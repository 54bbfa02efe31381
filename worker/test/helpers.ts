// Shared steps of the Workers-runtime integration tests: admin calls, API keys, signed heartbeats.
import { env, SELF } from "cloudflare:test";
import { signRequest, toBase64Url, utf8, webCryptoSignerFromSeed, type Heartbeat, type Signer } from "@meshgate/schemas";

export const BASE = "http://gateway.test";

export function adminFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

export async function createApiKey(name = "test"): Promise<{ id: string; key: string }> {
  const res = await adminFetch("/admin/keys", { method: "POST", body: JSON.stringify({ name }), headers: { "content-type": "application/json" } });
  if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export function clientFetch(path: string, key: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${key}`);
  if (init.body) headers.set("content-type", "application/json");
  return SELF.fetch(`${BASE}${path}`, { ...init, headers });
}

export interface TestNode {
  id: string;
  signer: Signer;
  seq: number;
}

let nodeCounter = 0;

/** A fresh node identity (deterministic per test run, distinct per call). */
export async function newNode(): Promise<TestNode> {
  const seed = new Uint8Array(32);
  crypto.getRandomValues(seed);
  seed[0] = ++nodeCounter;
  const { signer, publicKey } = await webCryptoSignerFromSeed(toBase64Url(seed), (pk) => pk);
  return { id: publicKey, signer, seq: 0 };
}

export function heartbeatBody(node: TestNode, over: Partial<Heartbeat> = {}): Heartbeat {
  node.seq++;
  return {
    node_id: node.id,
    url: "http://127.0.0.1:9/",
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

export async function signHeartbeat(node: TestNode, body: unknown, opts: { now?: number; signer?: Signer } = {}): Promise<SignedHeartbeat> {
  const bytes = utf8(JSON.stringify(body));
  const headers = new Headers({ "content-type": "application/json" });
  await signRequest({ method: "POST", url: `${BASE}/v1/nodes/heartbeat`, headers, body: bytes, signer: opts.signer ?? node.signer, now: opts.now ?? Date.now() });
  return { body: bytes, headers };
}

export function sendHeartbeat(signed: SignedHeartbeat): Promise<Response> {
  return SELF.fetch(`${BASE}/v1/nodes/heartbeat`, { method: "POST", body: signed.body, headers: signed.headers });
}

export async function register(node: TestNode, over: Partial<Heartbeat> = {}): Promise<Response> {
  return sendHeartbeat(await signHeartbeat(node, heartbeatBody(node, over)));
}

export interface OpenAIError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Asserts the OpenAI error shape and returns it. */
export async function errorBody(res: Response): Promise<OpenAIError["error"]> {
  const body = (await res.json()) as OpenAIError;
  const keys = Object.keys(body.error).sort();
  if (keys.join() !== "code,message,param,type") throw new Error(`not an OpenAI error shape: ${JSON.stringify(body)}`);
  return body.error;
}
