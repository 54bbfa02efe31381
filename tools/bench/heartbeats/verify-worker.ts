// A Worker that does exactly what the gateway does with a heartbeat (RFC 9421 verify with the node-key header, then
// JSON.parse + HeartbeatSchema) for a batch of pre-signed requests, one after another. It does not time itself:
// workerd freezes Date.now() while JavaScript runs, so the bench times each batch from outside.
// Limits mirror worker/src/http/node-signature.ts (30 s skew, 60 s max age). Bundled with tools/gateway's esbuild
// step and served under workerd by heartbeat-verify-bench.ts.
import * as ed from "@noble/ed25519";
import {
  fromBase64,
  HeartbeatSchema,
  NODE_KEY_HEADER,
  nodeKeyVerifier,
  utf8,
  verifyRequest,
  webCryptoVerify,
  type RawVerify,
} from "@meshgate/schemas";

export type Engine = "webcrypto" | "noble";

export interface SignedHeartbeat {
  url: string;
  headers: [string, string][];
  body: string;
}

export interface VerifyBatch {
  engine: Engine;
  requests: SignedHeartbeat[];
}

export interface VerifyOutcome {
  verified: number;
  failed: number;
  /** The first failure's message, so a broken setup says why rather than just "failed: 2000". */
  firstError?: string;
}

/** Strict RFC 8032 (zip215: false), as WebCrypto is. noble v3 hashes with crypto.subtle by default, so no setup. */
const nobleVerify: RawVerify = async (publicKey, signature, data) => {
  const raw = fromBase64(publicKey);
  if (!raw) return false;
  try {
    return await ed.verifyAsync(signature, data, raw, { zip215: false });
  } catch {
    return false;
  }
};

const ENGINES: Record<Engine, RawVerify> = { webcrypto: webCryptoVerify, noble: nobleVerify };

const NODE_SKEW_SECONDS = 30;
const NODE_MAX_AGE_SECONDS = 60;

async function verifyOne(req: SignedHeartbeat, rawVerify: RawVerify): Promise<void> {
  const headers = new Headers(req.headers);
  const body = utf8(req.body);
  await verifyRequest({
    message: { method: "POST", url: req.url, headers },
    body,
    policy: { now: Date.now(), maxSkewSeconds: NODE_SKEW_SECONDS, maxAgeSeconds: NODE_MAX_AGE_SECONDS },
    verify: nodeKeyVerifier(headers.get(NODE_KEY_HEADER), rawVerify),
  });
  // node_id is not compared with the keyid: after a key rotation they differ, and the registry decides (not timed).
  HeartbeatSchema.parse(JSON.parse(req.body));
}

// A light shape check rather than a schema: parsing the batch is inside the measured time, so keep it cheap.
function isBatch(value: unknown): value is VerifyBatch {
  if (typeof value !== "object" || value === null) return false;
  const { engine, requests } = value as Record<string, unknown>;
  return (engine === "webcrypto" || engine === "noble") && Array.isArray(requests);
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== "POST") return new Response("POST a VerifyBatch\n", { status: 405 });
    const batch: unknown = await request.json();
    if (!isBatch(batch)) return new Response("not a VerifyBatch\n", { status: 400 });
    const rawVerify = ENGINES[batch.engine];
    const outcome: VerifyOutcome = { verified: 0, failed: 0 };
    for (const req of batch.requests) {
      try {
        await verifyOne(req, rawVerify);
        outcome.verified++;
      } catch (err) {
        outcome.failed++;
        outcome.firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
    return Response.json(outcome);
  },
};
