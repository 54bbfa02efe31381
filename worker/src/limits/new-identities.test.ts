import { describe, expect, it } from "vitest";
import {
  DEFAULT_IDENTITIES_PER_ORIGIN,
  DEFAULT_REGISTRATION_LIMIT,
  identitiesPerOrigin,
  identityOrigin,
  registrationRateLimit,
  registrationSource,
  UNKNOWN_SOURCE,
} from "./new-identities.js";
import { HOUR_MS } from "./token-bucket.js";

describe("registration source", () => {
  it("is the IPv4 address as given", () => {
    expect(registrationSource("203.0.113.7")).toBe("203.0.113.7");
    expect(registrationSource(" 203.0.113.7 ")).toBe("203.0.113.7");
  });

  it("is an IPv6 address's /64, however it is spelled", () => {
    const prefix = "2001:db8:1:2::/64";
    expect(registrationSource("2001:db8:1:2::1")).toBe(prefix);
    expect(registrationSource("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe(prefix);
    expect(registrationSource("2001:db8:1:3::1")).not.toBe(prefix);
  });

  it("is one shared bucket without an address, and bounded text for one it cannot read", () => {
    expect(registrationSource(null)).toBe(UNKNOWN_SOURCE);
    expect(registrationSource("")).toBe(UNKNOWN_SOURCE);
    expect(registrationSource(`x:${"y".repeat(500)}`).length).toBeLessThanOrEqual(64);
  });
});

describe("identity origin", () => {
  it("is host and port, the default port filled in; not the scheme or path", () => {
    expect(identityOrigin("https://node.example/a")).toBe("node.example:443");
    expect(identityOrigin("https://node.example:443/b")).toBe("node.example:443");
    expect(identityOrigin("http://NODE.example")).toBe("node.example:80");
    expect(identityOrigin("http://127.0.0.1:8001")).not.toBe(identityOrigin("http://127.0.0.1:8002"));
    expect(identityOrigin("http://[::1]:8001")).toBe("[::1]:8001");
    expect(identityOrigin("not a url")).toBeNull();
  });
});

describe("settings", () => {
  it.each([
    [undefined, DEFAULT_REGISTRATION_LIMIT],
    ["60/5", { refill: 60, periodMs: HOUR_MS, burst: 5 }],
    [" 6 / 2 ", { refill: 6, periodMs: HOUR_MS, burst: 2 }],
    ["0/5", DEFAULT_REGISTRATION_LIMIT],
    ["5/0", DEFAULT_REGISTRATION_LIMIT],
    ["lots", DEFAULT_REGISTRATION_LIMIT],
  ])("REGISTRATION_RATE_LIMIT %s → %o", (value, expected) => {
    expect(registrationRateLimit({ REGISTRATION_RATE_LIMIT: value })).toEqual(expected);
  });

  it.each([
    [undefined, DEFAULT_IDENTITIES_PER_ORIGIN],
    ["1", 1],
    [" 12 ", 12],
    ["0", DEFAULT_IDENTITIES_PER_ORIGIN],
    ["-3", DEFAULT_IDENTITIES_PER_ORIGIN],
    ["1e9", DEFAULT_IDENTITIES_PER_ORIGIN],
  ])("IDENTITIES_PER_ORIGIN %s → %s", (value, expected) => {
    expect(identitiesPerOrigin({ IDENTITIES_PER_ORIGIN: value })).toBe(expected);
  });
});
