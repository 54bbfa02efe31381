// Stops a node's answer whose client left: a signed request to the node's cancel path (schemas/src/cancel.ts). The
// node stops its inference server and ends the answer with a receipt for the part it relayed, on the answer's own
// connection, which the gateway is still reading.
import { CANCEL_PATH, DISPATCH_NODE_HEADER, signRequest, utf8, type Signer } from "@meshgate/schemas";
import type { RouteNode } from "../routing/index.js";
import type { NodeFetch } from "./node-transport.js";

/** The node answers at once; its answer says only whether it stopped anything. */
const CANCEL_TIMEOUT_MS = 5_000;

/** Whether the node stopped the answer (false: it had ended already, does not know the request, or did not answer). */
export async function cancelAnswer(
  node: RouteNode,
  requestId: string,
  signer: Signer,
  now: number,
  transport: NodeFetch,
): Promise<boolean> {
  const url = node.origin + CANCEL_PATH;
  const body = utf8(JSON.stringify({ request_id: requestId }));
  const headers = new Headers({
    "content-type": "application/json",
    "x-request-id": requestId,
    [DISPATCH_NODE_HEADER]: node.id,
  });
  try {
    await signRequest({ method: "POST", url, headers, body, signer, now, extraComponents: [DISPATCH_NODE_HEADER] });
    const signal = AbortSignal.timeout(CANCEL_TIMEOUT_MS);
    const response = await transport(
      node,
      new Request(url, { method: "POST", headers, body, redirect: "manual", signal }),
    );
    await response.body?.cancel().catch(() => {});
    return response.status === 200;
  } catch (err) {
    console.error("cancelling a node's answer failed", String(err));
    return false;
  }
}
