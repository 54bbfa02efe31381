// GET /v1/nodes/connect/:id with `Upgrade: websocket`: a node dials in and opens its session (schemas/src/session.ts).
// The upgrade is signed by the node key and checked here before anything else; the node's own session object then
// asks the registry whether the key is the node's, the node is not banned, and the nonce is new.
import { NodeIdSchema } from "@meshgate/schemas";
import { nodeSession } from "../durable/names.js";
import { SESSION_OPENING_HEADER, type SessionOpening } from "../durable/node-session/node-session.js";
import type { Refusal } from "../durable/node-registry/types.js";
import { busyError, HttpError } from "../http/http-error.js";
import { refusalError, verifyNodeSignature } from "../http/node-signature.js";
import type { GatewayRequest } from "../http/request-id.js";
import { ConcurrencyGate } from "../limits/concurrency-gate.js";
import { registrationSource } from "../limits/new-identities.js";

const NO_BODY = new Uint8Array(0);

/**
 * Upgrades this isolate opens at once. A reconnect herd past it is answered 503 at once (the agents back off) rather
 * than queued past the agents' handshake timeout, when every upgrade would be opened for nobody.
 */
export const OPENING_UPGRADES = new ConcurrencyGate(64);

export async function nodeConnectRoute(request: GatewayRequest, env: Env): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
    throw new HttpError(426, "A node session is a WebSocket: send `Upgrade: websocket`.", {
      code: "upgrade_required",
      headers: { upgrade: "websocket" },
    });
  const release = OPENING_UPGRADES.enter();
  if (!release) throw busyError();
  try {
    return await openSession(request, env);
  } finally {
    release();
  }
}

async function openSession(request: GatewayRequest, env: Env): Promise<Response> {
  const now = Date.now();
  const signature = await verifyNodeSignature(request, NO_BODY, now, "Session");
  const nodeId = request.params["id"] ?? "";
  if (!NodeIdSchema.safeParse(nodeId).success)
    throw new HttpError(400, "Session refused: the path must end with the node id.", {
      param: "id",
      code: "invalid_node_id",
    });
  // The agent gave up on this upgrade while it waited (a herd): opening it would be work for nobody.
  if (request.signal.aborted) throw new HttpError(499, "Session abandoned by the node.", { code: "client_closed" });
  const opening: SessionOpening = {
    nodeId,
    signature,
    // Cloudflare sets CF-Connecting-IP on every request it forwards; a client cannot choose it.
    source: registrationSource(request.headers.get("cf-connecting-ip")),
    now,
  };
  const response = await nodeSession(env, nodeId).fetch("https://session/connect", {
    headers: { upgrade: "websocket", [SESSION_OPENING_HEADER]: JSON.stringify(opening) },
  });
  if (response.status === 101) return response;
  const { refusal } = (await response.json()) as { refusal: Refusal };
  throw refusalError("Session", refusal);
}
