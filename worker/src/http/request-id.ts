import type { IRequest } from "itty-router";

export type GatewayRequest = IRequest & { id: string };

/** Router `before` stage: every request gets an id that the response echoes in `x-request-id`. */
export function withRequestId(request: IRequest): void {
  (request as GatewayRequest).id = `req_${crypto.randomUUID().replace(/-/g, "")}`;
}

/** Router `finally` stage. */
export function withRequestIdHeader(response: Response, request: IRequest): Response {
  const id = (request as Partial<GatewayRequest>).id;
  // An accepted WebSocket upgrade passes as it is: a copy would lose its socket.
  if (!id || response.webSocket) return response;
  if (response.headers.has("x-request-id")) return response;
  try {
    response.headers.set("x-request-id", id);
    return response;
  } catch {
    // Immutable headers (a response passed through from a subrequest): copy it.
    const copy = new Response(response.body, response);
    copy.headers.set("x-request-id", id);
    return copy;
  }
}
