// Every error the agent itself answers uses OpenAI's error shape, like the gateway and the upstream servers.
import type { ServerResponse } from "node:http";
import type { OpenAIErrorBody } from "@meshgate/schemas";

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "api_error";

export function sendError(res: ServerResponse, status: number, type: ErrorType, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: OpenAIErrorBody = { error: { message, type, param: null, code } };
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
