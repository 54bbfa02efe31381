// Route-level generators for the hostile-input battery: admin body shapes that can never validate, invalid usage
// queries, method/path pairs no route answers, and bodies just over each route's size limit.
import fc from "fast-check";
import { segment } from "./hostile-input-requests.js";
import { hostileBody, type BodyShape } from "./hostile-input-values.js";

export interface Route {
  method: string;
  /** `:key` and `:node` stand for an API key id and a node id. */
  path: string;
}

/** Every route of the gateway (worker/src/app.ts), `x` standing for an id. */
const ALL_ROUTES: readonly Route[] = [
  { method: "GET", path: "/" },
  { method: "POST", path: "/v1/chat/completions" },
  { method: "POST", path: "/v1/completions" },
  { method: "POST", path: "/v1/embeddings" },
  { method: "GET", path: "/v1/models" },
  { method: "GET", path: "/v1/models/x" },
  { method: "GET", path: "/v1/usage" },
  { method: "GET", path: "/v1/nodes" },
  { method: "POST", path: "/v1/nodes/heartbeat" },
  { method: "POST", path: "/v1/nodes/rotate-key" },
  { method: "GET", path: "/v1/nodes/connect/x" },
  { method: "GET", path: "/.well-known/meshgate.json" },
  { method: "GET", path: "/openapi.json" },
  { method: "POST", path: "/admin/keys" },
  { method: "GET", path: "/admin/keys" },
  { method: "DELETE", path: "/admin/keys/x" },
  { method: "GET", path: "/admin/nodes" },
  { method: "POST", path: "/admin/nodes/x/ban" },
  { method: "POST", path: "/admin/nodes/x/unban" },
  { method: "PATCH", path: "/admin/keys/x" },
  { method: "GET", path: "/admin/usage" },
  { method: "POST", path: "/admin/settlements" },
  { method: "GET", path: "/v1/settlements" },
  { method: "GET", path: "/v1/settlements/x" },
  { method: "GET", path: "/v1/settlements/x/proof" },
  { method: "POST", path: "/admin/settlements/x/abort" },
];

export const ROUTES = {
  admin: [
    { method: "POST", path: "/admin/keys" },
    { method: "GET", path: "/admin/keys" },
    { method: "DELETE", path: "/admin/keys/:key" },
    { method: "GET", path: "/admin/nodes" },
    { method: "POST", path: "/admin/nodes/:node/ban" },
    { method: "POST", path: "/admin/nodes/:node/unban" },
    { method: "PATCH", path: "/admin/keys/:key" },
    { method: "GET", path: "/admin/usage" },
    { method: "POST", path: "/admin/settlements" },
    { method: "POST", path: "/admin/settlements/:key/abort" },
  ] as readonly Route[],
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Admin bodies break a field's constraint rather than rely on unknown members being refused: a string `name` grows past
 * 128 characters, a string `reason` past 500, a missing `reason` becomes "" (an empty ban body would be a valid ban).
 */
export const adminShapes: { key: BodyShape; ban: BodyShape } = {
  key: {
    base: { name: "fuzz-key" },
    fields: [["name"]],
    fix: (v) =>
      isRecord(v) ? { ...v, name: typeof v["name"] === "string" ? "x".repeat(129) + v["name"] : v["name"] } : v,
  },
  ban: {
    base: { reason: "fuzz" },
    fields: [["reason"]],
    fix: (v) =>
      isRecord(v)
        ? { ...v, reason: typeof v["reason"] === "string" ? "x".repeat(501) + v["reason"] : (v["reason"] ?? "") }
        : v,
  },
};

/** Neither unix seconds nor anything Date.parse reads. */
const badInstant = fc
  .oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
    fc.constantFrom("NaN", "Infinity", "1234567890123", "now", "2024-13-01", "2024-02-30T25:00", "1e9", "0x10", " 1"),
  )
  .filter((v) => !/^\d{1,12}$/.test(v) && Number.isNaN(Date.parse(v)));
const goodInstant = fc.oneof(
  fc.integer({ min: 0, max: 999_999_999_999 }).map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
/** Not an integer from 1 to 10,000. */
const badLimit = fc.oneof(
  fc.integer({ max: 0 }).map(String),
  fc.integer({ min: 10_001 }).map(String),
  fc.double({ noInteger: true }).map(String),
  fc.constantFrom("abc", "1.5", "NaN", "Infinity", "-0", "1e5", " ", "1 2", "10001", "0"),
);
const maybe = (name: string, arb: fc.Arbitrary<string>) =>
  fc.option(
    arb.map((v) => `${name}=${encodeURIComponent(v)}`),
    { nil: "" },
  );

const goodLimit = fc.integer({ min: 1, max: 10_000 }).map(String);

/** A usage query with at least one invalid parameter, or `to` before `from`. */
export const usageQuery: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(maybe("from", badInstant).filter(Boolean), maybe("to", goodInstant), maybe("limit", goodLimit)),
    fc.tuple(maybe("from", goodInstant), maybe("to", badInstant).filter(Boolean), maybe("limit", goodLimit)),
    fc.tuple(maybe("from", goodInstant), maybe("to", goodInstant), maybe("limit", badLimit).filter(Boolean)),
    fc
      .tuple(fc.integer({ min: 1, max: 999_999_999_999 }), fc.nat())
      .map(([from, back]) => [`from=${from}`, `to=${Math.max(0, from - 1 - back)}`, ""]),
  )
  .map((params: readonly string[]) => params.filter(Boolean).join("&"));

/** workerd's Request refuses methods outside the standard set (the raw-socket test sends those). */
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "patch"];
const UNKNOWN_PATHS = [
  "/",
  "/v1",
  "/v1/",
  "/V1/chat/completions",
  "/v1/chat/completion",
  "/v2/chat/completions",
  "/admin",
  "/admin/",
  "/admin/keys/a/b",
  "/v1/nodes/heartbeat/x",
  "/.well-known/",
  "/.well-known/meshgate.jsonx",
  "/v1/chat/completions%2F",
  "/admin/nodes/x",
  "/v1/usage/x",
];

/** A method and path no route answers: a real path with a method it does not take, or a path nothing serves. */
export const wrongMethodOrPath: fc.Arbitrary<{ method: string; path: string; body: Uint8Array | undefined }> = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.oneof(
      fc.constantFrom(...ALL_ROUTES.map((r) => r.path), ...UNKNOWN_PATHS),
      segment("fuzz").map((s) => `/${s}`),
      segment("fuzz").map((s) => `/v1/${s}`),
    ),
    hostileBody({ base: { fuzz: 1 }, fields: [["fuzz"]], fix: (v) => v }),
  )
  // Method names are matched case-insensitively (the runtime upper-cases PATCH too), so "patch" is PATCH here.
  .filter(([method, path]) => !ALL_ROUTES.some((r) => r.method === method.toUpperCase() && r.path === path))
  .map(([method, path, body]) => ({ method, path, body: method === "GET" ? undefined : body }));

export interface Oversized {
  path: string;
  auth: "client" | "admin" | "none";
  size: number;
  fill: number;
  streamed: boolean;
}

const MiB = 1024 * 1024;
const over = (path: string, auth: Oversized["auth"], limit: number, weight: number) => ({
  weight,
  arbitrary: fc.record({
    path: fc.constant(path),
    auth: fc.constant(auth),
    size: fc.integer({ min: limit + 1, max: limit + 4096 }),
    fill: fc.integer({ min: 0, max: 255 }),
    streamed: fc.boolean(),
  }),
});

/**
 * Just past each limit (client API 4 MiB, heartbeat 64 KiB, rotation, admin keys and bans 16 KiB), filled with one
 * byte.
 */
export const oversized: fc.Arbitrary<Oversized> = fc.oneof(
  over("/v1/chat/completions", "client", 4 * MiB, 1),
  over("/v1/embeddings", "client", 4 * MiB, 1),
  over("/v1/responses", "client", 4 * MiB, 1),
  over("/v1/nodes/heartbeat", "none", 64 * 1024, 3),
  over("/v1/nodes/rotate-key", "none", 16 * 1024, 3),
  over("/admin/keys", "admin", 16 * 1024, 2),
  over("/admin/nodes/:node/ban", "admin", 16 * 1024, 2),
);
