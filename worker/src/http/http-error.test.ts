import { describe, expect, it } from "vitest";
import { errorResponse, HttpError } from "./http-error.js";

const overloaded = (flag: "overloaded" | "retryable") =>
  Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { [flag]: true });

describe("errorResponse", () => {
  it("renders an HttpError as it is", async () => {
    const res = errorResponse(new HttpError(409, "taken", { code: "key_in_use" }));
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      error: { message: "taken", type: "invalid_request_error", param: null, code: "key_in_use" },
    });
  });

  it("tells the caller to retry when a Durable Object was overloaded, not that the gateway broke", async () => {
    for (const flag of ["overloaded", "retryable"] as const) {
      const res = errorResponse(overloaded(flag));
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.json()).toMatchObject({ error: { type: "api_error", code: "gateway_busy" } });
    }
  });

  it("hides anything else behind a 500 without its message", async () => {
    const res = errorResponse(new Error("secret internals"));
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("secret internals");
  });
});
