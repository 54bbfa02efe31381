// The least a metered, signed gateway must do for one non-streamed request, in steps that STEPS switches on one by
// one (each includes the ones before): what a request costs before any of Meshgate's own logic. Every step is what
// the issues require of the gateway: the client's key checked by its hash, the request parsed, the dispatch signed
// (RFC 9421 with a content digest), the answer read and rebuilt, its digest taken and the node's receipt verified,
// and a usage row written to a Durable Object's SQLite off the response path.
import { DurableObject } from "cloudflare:workers";
import { fetchBackend } from "../../relay-floor/workers/backend.js";

type Step = "parse" | "sign" | "read" | "assemble" | "receipt" | "record" | "batch";

interface FloorEnv {
  BACKEND_URL: string;
  STEPS: string;
  Ledger: DurableObjectNamespace<Ledger>;
}

interface UsageRow {
  id: string;
  node: string;
  prompt: number;
  completion: number;
  cost: number;
  digest: ArrayBuffer;
}

/**
 * Rows waiting for the isolate's next write (batch): one RPC carries every row of BATCH_MS, as Meshgate's Batcher does.
 */
let pending: UsageRow[] = [];
const BATCH_MS = 200;

function record(env: FloorEnv, ctx: ExecutionContext, row: UsageRow, batched: boolean): void {
  const ledger = env.Ledger.get(env.Ledger.idFromName("key"));
  if (!batched) {
    ctx.waitUntil(ledger.record([row]));
    return;
  }
  pending.push(row);
  if (pending.length > 1) return;
  ctx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, BATCH_MS)).then(() => {
      const rows = pending;
      pending = [];
      return ledger.record(rows);
    }),
  );
}

/** Usage rows, as KeyAccount records them (the shape, not the logic). */
export class Ledger extends DurableObject {
  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS usage (id TEXT PRIMARY KEY, node TEXT, prompt INTEGER, completion INTEGER, cost " +
        "INTEGER, digest BLOB)",
    );
  }
  record(rows: UsageRow[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const row of rows)
        this.ctx.storage.sql.exec(
          "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?)",
          row.id,
          row.node,
          row.prompt,
          row.completion,
          row.cost,
          row.digest,
        );
    });
  }
}

const ED25519 = { name: "Ed25519" } as const;
const utf8 = new TextEncoder();

interface Keys {
  gateway: CryptoKeyPair;
  receiptSignature: ArrayBuffer;
  keyHash: Uint8Array;
}
let keys: Promise<Keys> | undefined;

/** Made once per isolate, as the gateway imports its key once. */
async function makeKeys(): Promise<Keys> {
  const gateway = (await crypto.subtle.generateKey(ED25519, false, ["sign", "verify"])) as CryptoKeyPair;
  const receiptSignature = await crypto.subtle.sign(ED25519, gateway.privateKey, new Uint8Array(140));
  const keyHash = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode("Bearer unused")));
  return { gateway, receiptSignature, keyHash };
}

function base64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

async function authenticate(request: Request, k: Keys): Promise<void> {
  const presented = new Uint8Array(
    await crypto.subtle.digest("SHA-256", utf8.encode(request.headers.get("authorization") ?? "")),
  );
  if (!crypto.subtle.timingSafeEqual(presented, k.keyHash)) throw new Error("unknown key");
}

async function signedHeaders(url: string, body: Uint8Array, k: Keys): Promise<Headers> {
  const contentDigest = `sha-256=:${base64(await crypto.subtle.digest("SHA-256", body))}:`;
  const created = Math.floor(Date.now() / 1000);
  const params = `("@method" "@target-uri" "content-digest" "content-type" "x-request-id");created=${created};keyid="gateway";nonce="${crypto.randomUUID()}"`;
  const requestId = crypto.randomUUID();
  const base = `"@method": POST\n"@target-uri": ${url}\n"content-digest": ${contentDigest}\n"content-type": application/json\n"x-request-id": ${requestId}\n"@signature-params": ${params}`;
  const signature = base64(await crypto.subtle.sign(ED25519, k.gateway.privateKey, utf8.encode(base)));
  return new Headers({
    "content-type": "application/json",
    "x-request-id": requestId,
    "content-digest": contentDigest,
    "signature-input": `sig1=${params}`,
    signature: `sig1=:${signature}:`,
  });
}

interface Chunk {
  id: string;
  created: number;
  model: string;
  choices: { index: number; delta: { content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
}

/** A chat stream read whole and assembled into one chat.completion: the node was asked to stream. */
function assemble(text: string): { answer: unknown; usage: { prompt_tokens: number; completion_tokens: number } } {
  let content = "";
  let last: Chunk | undefined;
  let usage = { prompt_tokens: 0, completion_tokens: 0 };
  let finish: string | null = null;
  for (const event of text.split("\n\n")) {
    if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
    const chunk = JSON.parse(event.slice(6)) as Chunk;
    last = chunk;
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
    }
  }
  const answer = {
    id: last?.id,
    object: "chat.completion",
    created: last?.created,
    model: last?.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finish }],
    usage,
  };
  return { answer, usage };
}

/** The node's answer as one chat.completion (what the gateway could take if nodes did not stream). */
function whole(text: string): { answer: unknown; usage: { prompt_tokens: number; completion_tokens: number } } {
  const answer = JSON.parse(text) as { usage: { prompt_tokens: number; completion_tokens: number } };
  return { answer, usage: answer.usage };
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const steps = new Set(env.STEPS.split(",") as Step[]);
    if (!steps.has("parse")) return fetchBackend(request, env.BACKEND_URL);
    keys ??= makeKeys();
    const k = await keys;
    await authenticate(request, k);
    const parsed = (await request.json()) as Record<string, unknown>;
    if (typeof parsed["model"] !== "string" || !Array.isArray(parsed["messages"]))
      return Response.json({ error: "bad request" }, { status: 400 });
    const streamed = steps.has("assemble");
    const body = utf8.encode(
      JSON.stringify(streamed ? { ...parsed, stream: true, stream_options: { include_usage: true } } : parsed),
    );
    const url = new URL(new URL(request.url).pathname, env.BACKEND_URL).href;
    const headers = steps.has("sign")
      ? await signedHeaders(url, body, k)
      : new Headers({ "content-type": "application/json" });
    const res = await fetch(url, { method: "POST", headers, body });
    if (!steps.has("read")) return res;
    const bytes = await res.arrayBuffer();
    const text = new TextDecoder().decode(bytes);
    const { answer, usage } = streamed ? assemble(text) : whole(text);
    if (steps.has("receipt")) {
      const digest = await crypto.subtle.digest("SHA-256", bytes);
      if (!(await crypto.subtle.verify(ED25519, k.gateway.publicKey, k.receiptSignature, new Uint8Array(140))))
        throw new Error("bad receipt");
      const row = {
        id: crypto.randomUUID(),
        node: "node",
        prompt: usage.prompt_tokens,
        completion: usage.completion_tokens,
        cost: 1,
        digest,
      };
      if (steps.has("record")) record(env, ctx, row, steps.has("batch"));
    }
    return new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } });
  },
};
