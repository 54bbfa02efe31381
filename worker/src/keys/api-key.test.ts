import { describe, expect, it } from "vitest";
import { bearerToken, generateLegacyApiKey, hashApiKey } from "./api-key.js";
import { parseToken } from "./key-token.js";

describe("API keys", () => {
  it("in the legacy format are long random secrets with a recognisable prefix", () => {
    const a = generateLegacyApiKey();
    expect(a).toMatch(/^mg-[A-Za-z0-9_-]{43}$/);
    expect(parseToken(a).kind).toBe("legacy");
    expect(generateLegacyApiKey()).not.toBe(a);
  });

  it("hash to the SHA-256 hex digest (the only form stored)", async () => {
    expect(await hashApiKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("are read from a Bearer header only", () => {
    expect(bearerToken("Bearer mg-abc")).toBe("mg-abc");
    expect(bearerToken("bearer   mg-abc  ")).toBe("mg-abc");
    expect(bearerToken("Basic mg-abc")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
});
