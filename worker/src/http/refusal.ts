// Where a domain refusal (lib/refusal.ts) becomes the client's error: each kind keeps the status, type, code, param,
// message and headers the gateway has always answered with.
import type { OverLimit } from "../billing/request-budget.js";
import type { Invalid, Misconfigured, Result } from "../lib/refusal.js";
import { HttpError } from "./http-error.js";

export type DomainRefusal = Invalid | Misconfigured | OverLimit;

/** invalid: 400 naming the field; over_limit: OpenAI's 429 with Retry-After; misconfigured: 500, logged. */
export function refusalHttpError(refusal: DomainRefusal): HttpError {
  switch (refusal.kind) {
    case "invalid":
      return new HttpError(400, refusal.message, { param: refusal.param, code: refusal.code });
    case "over_limit": {
      const headers: Record<string, string> = { ...refusal.headers };
      if (refusal.retryAfterSeconds !== null) headers["retry-after"] = String(refusal.retryAfterSeconds);
      return new HttpError(429, refusal.message, {
        type: refusal.code === "insufficient_quota" ? "insufficient_quota" : "rate_limit_error",
        code: refusal.code,
        headers,
      });
    }
    case "misconfigured":
      console.error(refusal.detail);
      return new HttpError(500, refusal.message, { code: "gateway_misconfigured" });
  }
}

/** The value, or the refusal thrown as the client's error (the router's catch stage renders it). */
export function orThrow<T>(result: Result<T, DomainRefusal>): T {
  if (result.ok) return result.value;
  throw refusalHttpError(result.refusal);
}
