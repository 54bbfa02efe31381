import { describe, expect, it } from "vitest";
import { openApiPath, pathParams } from "./paths.js";

describe("openApiPath", () => {
  it("spells the router's parameters as OpenAPI's", () => {
    expect(openApiPath("/v1/settlements/:id/proof")).toBe("/v1/settlements/{id}/proof");
    expect(openApiPath("/v1/models/:id+")).toBe("/v1/models/{id}");
    expect(openApiPath("/v1/responses/*")).toBe("/v1/responses/{rest}");
    expect(openApiPath("/.well-known/meshgate.json")).toBe("/.well-known/meshgate.json");
    expect(openApiPath("")).toBe("/");
  });

  it("lists the parameters in order", () => {
    expect(pathParams("/admin/nodes/:id/ban")).toEqual(["id"]);
    expect(pathParams("/v1/responses/*")).toEqual(["rest"]);
    expect(pathParams("/v1/models")).toEqual([]);
  });
});
