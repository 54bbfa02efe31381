// Answers the gateway's reachability probe with this node's load. The request was already authenticated as the
// gateway's and addressed to a node this server serves; the answer names that node, so the gateway can tell that the
// node it meant answered.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DISPATCH_NODE_HEADER, type HealthAnswer } from "@meshgate/schemas";

/** A probe's body is `{}`; anything much larger is not a probe. */
export const MAX_HEALTH_BODY_BYTES = 1024;

export interface NodeLoad {
  /** Requests in flight, not counting the probe: a probe measures load, it is not load. */
  inFlight: number;
  capacity: number;
}

export function sendHealth(req: IncomingMessage, res: ServerResponse, load: NodeLoad): void {
  const answer: HealthAnswer = {
    object: "node.health",
    node_id: String(req.headers[DISPATCH_NODE_HEADER]),
    in_flight: load.inFlight,
    capacity: load.capacity,
  };
  const text = JSON.stringify(answer);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}
