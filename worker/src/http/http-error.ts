// The one error type of the gateway: thrown anywhere, rendered once in OpenAI's error shape by the router's catch
// stage.
import type { OpenAIErrorBody } from "@meshgate/schemas";
import { isOverloaded } from "../lib/overloaded.js";

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "insufficient_quota"
  | "api_error";

export interface HttpErrorInit {
  type?: ErrorType;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

const DEFAULT_TYPE: Record<number, ErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  409: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
};

export class HttpError extends Error {
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    message: string,
    init: HttpErrorInit = {},
  ) {
    super(message);
    this.type = init.type ?? DEFAULT_TYPE[status] ?? "api_error";
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
  }

  toResponse(): Response {
    const body: OpenAIErrorBody = {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
    return new Response(JSON.stringify(body), {
      status: this.status,
      headers: { "content-type": "application/json", ...this.headers },
    });
  }
}

/** Renders any thrown value; unexpected ones become a 500 without internals leaking to the client. */
export function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) return err.toResponse();
  if (isOverloaded(err)) return busyError().toResponse();
  console.error("unhandled error", err instanceof Error ? (err.stack ?? err.message) : String(err));
  return new HttpError(500, "The gateway hit an internal error.", { code: "internal_error" }).toResponse();
}

/** What a caller is told when a Durable Object it needed was overloaded: retry shortly, not an internal error. */
export function busyError(): HttpError {
  return new HttpError(503, "The gateway is busy; retry in a moment.", {
    code: "gateway_busy",
    headers: { "retry-after": "1" },
  });
}
