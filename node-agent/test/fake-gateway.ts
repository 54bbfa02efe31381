// A stand-in for the Meshgate gateway: serves its signing key and checks heartbeats the way the Worker's
// heartbeat route does (RFC 9421 via WebCrypto, key in meshgate-node-key, HeartbeatSchema, a new node's id = keyid).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  HeartbeatSchema,
  jwkThumbprint,
  newSeed,
  NODE_KEY_HEADER,
  nodeKeyVerifier,
  publicJwk,
  SignatureError,
  verifyRequest,
  webCryptoSignerFromSeed,
  webCryptoVerify,
  type GatewayMetadata,
  type Heartbeat,
  type HeartbeatAck,
  type PriceCeilings,
  type Signer,
} from "@meshgate/schemas";

export interface ReceivedHeartbeat {
  heartbeat: Heartbeat;
  keyId: string;
}

export interface FakeGateway {
  url: string;
  signer: Signer;
  keyId: string;
  heartbeats: ReceivedHeartbeat[];
  /** Heartbeats the gateway could not verify, with the SignatureError code or reason. */
  rejected: string[];
  /** Resolves once `count` verified heartbeats have arrived. */
  waitForHeartbeats(count: number): Promise<ReceivedHeartbeat[]>;
  /** Answers the next `count` valid heartbeats with this error instead of an ack. */
  refuseNext(count: number, status: number, error: { message: string; code: string }): void;
  close(): Promise<void>;
}

export interface FakeGatewayOptions {
  intervalMs?: number;
  /** Published in the metadata as `price_ceilings` (absent without one, as from gateways older than ceilings). */
  priceCeilings?: PriceCeilings;
}

export async function startFakeGateway(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const { signer, publicKey } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  const heartbeats: ReceivedHeartbeat[] = [];
  const rejected: string[] = [];
  const waiters: { count: number; resolve: (hbs: ReceivedHeartbeat[]) => void }[] = [];
  let refusals: { left: number; status: number; error: { message: string; code: string } } | null = null;
  let url = "";

  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/.well-known/meshgate.json") {
      const metadata: GatewayMetadata = {
        issuer: "meshgate",
        keys: [{ kid: signer.keyId, alg: "ed25519", jwk: publicJwk(publicKey), status: "current", not_after: null }],
        heartbeat_path: "/v1/nodes/heartbeat",
        heartbeat_interval_ms: options.intervalMs ?? 20,
        node_ttl_ms: 10_000,
        ...(options.priceCeilings ? { price_ceilings: options.priceCeilings } : {}),
      };
      return send(200, metadata);
    }
    if (req.method !== "POST" || req.url !== "/v1/nodes/heartbeat")
      return send(404, { error: { message: "not found", type: "not_found_error", param: null, code: null } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    try {
      const { keyId } = await verifyRequest({
        message: { method: "POST", url: `${url}${req.url}`, headers },
        body,
        policy: { now: Date.now(), maxSkewSeconds: 30, maxAgeSeconds: 60 },
        verify: nodeKeyVerifier(headers.get(NODE_KEY_HEADER), webCryptoVerify),
      });
      const heartbeat = HeartbeatSchema.parse(JSON.parse(Buffer.from(body).toString("utf8")));
      if (heartbeat.node_id !== keyId) throw new Error("key_mismatch");
      if (refusals && refusals.left > 0) {
        refusals.left -= 1;
        return send(refusals.status, { error: { ...refusals.error, type: "invalid_request_error", param: null } });
      }
      const registered = !heartbeats.some((h) => h.heartbeat.node_id === heartbeat.node_id);
      heartbeats.push({ heartbeat, keyId });
      for (const waiter of waiters.filter((w) => heartbeats.length >= w.count)) waiter.resolve(heartbeats.slice());
      const ack: HeartbeatAck = {
        object: "heartbeat.ack",
        node_id: heartbeat.node_id,
        seq: heartbeat.seq,
        registered,
        status: "active",
        interval_ms: options.intervalMs ?? 20,
      };
      send(200, ack);
    } catch (err) {
      rejected.push(err instanceof SignatureError ? err.code : err instanceof Error ? err.message : String(err));
      send(401, {
        error: { message: "Heartbeat refused", type: "authentication_error", param: null, code: "refused" },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    signer,
    keyId: signer.keyId,
    heartbeats,
    rejected,
    waitForHeartbeats: (count) =>
      heartbeats.length >= count
        ? Promise.resolve(heartbeats.slice())
        : new Promise((resolve) => waiters.push({ count, resolve })),
    refuseNext: (count, status, error) => {
      refusals = { left: count, status, error };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
