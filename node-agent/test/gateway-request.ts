// Builds requests the way the gateway's dispatch does: JSON body, RFC 9421 signature by the gateway's key.
import type { Signer } from "@meshgate/schemas";
import { jsonBody, signGatewayRequest } from "@meshgate/schemas/testing";

export interface GatewayRequestOptions {
  /** The node the gateway addresses the request to (covered by the signature). */
  nodeId: string;
  /** Defaults to now; set far in the past to make a stale signature. */
  now?: number;
  /** Send these bytes instead of the signed ones (a tampered body). */
  sentBody?: Uint8Array;
  /** The gateway's `x-request-id`; defaults to req_test. */
  requestId?: string;
}

export interface SignedRequest {
  url: string;
  init: { method: "POST"; headers: Record<string, string>; body: Uint8Array };
}

export async function signedRequest(
  signer: Signer,
  url: string,
  payload: unknown,
  options: GatewayRequestOptions,
): Promise<SignedRequest> {
  const body = jsonBody(payload);
  const headers = await signGatewayRequest({
    url,
    body,
    signer,
    nodeId: options.nodeId,
    requestId: options.requestId ?? "req_test",
    now: options.now,
  });
  return { url, init: { method: "POST", headers: Object.fromEntries(headers), body: options.sentBody ?? body } };
}

export function send(request: SignedRequest): Promise<Response> {
  return fetch(request.url, request.init);
}
