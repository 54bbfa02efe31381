// Request-level generators for the hostile-input battery: header values, content types, authorization that never
// carries the right secret, signature headers, odd paths and query strings, and the body shapes of each endpoint.
import fc from "fast-check";
import { toBase64 } from "@meshgate/schemas";
import { bearerToken } from "../src/keys/api-key.js";
import { FUZZ_MODEL, numberText, unserved, type BodyShape } from "./hostile-input-values.js";

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/**
 * Header value characters: printable ASCII, tab, other controls and DEL (fetch() refuses NUL, CR, LF). Bytes above
 * 0x7f are left to the raw-socket test (tools/e2e/hostile-wire.test.ts): workerd logs a warning for each one here.
 */
const headerUnit = fc
  .oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constantFrom(0x09, 0x01, 0x1f, 0x7f) },
  )
  .map((c) => String.fromCharCode(c));

export const headerValue = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: headerUnit, maxLength: 80 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\t",
      "null",
      "undefined",
      "[object Object]",
      "Bearer",
      "Bearer ",
      "Basic Zm9vOmJhcg==",
      ",",
      "a, b",
      '"',
      "=",
      ":",
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: headerUnit, minLength: 1, maxLength: 8 }), fc.integer({ min: 100, max: 1_000 }))
      .map(([s, n]) => s.repeat(n)),
  },
);

export const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/problem+json",
    "application/json-seq",
    "text/plain",
    "text/plain;charset=UTF-16",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "text/xml",
    "application/xml",
    "application/octet-stream",
    "text/html",
    "image/png",
    "application/jsonx",
    "json",
    "*/*",
    "",
    ";",
    "application/",
    "application/json\tx",
  ),
  headerValue,
);

/**
 * Mostly JSON or none, so most bodies reach the parser; otherwise one or two arbitrary types (a repeated header is
 * joined with ", ").
 */
export const contentTypes: fc.Arbitrary<HeaderList> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<HeaderList>([["content-type", "application/json"]]) },
  { weight: 1, arbitrary: fc.constant<HeaderList>([]) },
  {
    weight: 3,
    arbitrary: fc
      .array(contentType, { minLength: 1, maxLength: 2 })
      .map((cts) => cts.map((ct) => ["content-type", ct] as const)),
  },
);

/** Headers a client might add or garble: repeated, conflicting, odd values. Never authorization. */
export const noiseHeaders: fc.Arbitrary<HeaderList> = fc.array(
  fc.tuple(
    fc.constantFrom(
      "accept",
      "accept-encoding",
      "x-request-id",
      "meshgate-node",
      "x-forwarded-for",
      "transfer-encoding",
      "cookie",
      "x-fuzz",
    ),
    headerValue,
  ),
  { maxLength: 3 },
);

/** How the runtime presents repeated headers: joined with ", ", outer spaces and tabs dropped. */
const joined = (values: readonly string[]) => values.join(", ").replace(/^[\t ]+|[\t ]+$/g, "");

/** Zero to two authorization headers that never carry `secret` as their bearer token. */
export function badAuthorization(secret: string): fc.Arbitrary<HeaderList> {
  const near = [
    `Bearer ${secret}x`,
    `Bearer ${secret.slice(0, -1)}`,
    `Basic ${secret}`,
    `Bearer ${secret} ${secret}`,
    `Bearer ${secret.toUpperCase()}`,
    `Token ${secret}`,
    `Bearer "${secret}"`,
    secret,
    `Bearer:${secret}`,
    `Bearer ${secret},`,
  ];
  const value = fc.oneof(
    headerValue,
    fc.constantFrom(...near),
    headerValue.map((v) => `Bearer ${v}`),
  );
  return fc
    .array(value, { maxLength: 2 })
    .filter((values) => values.length === 0 || bearerToken(joined(values)) !== secret)
    .map((values) => values.map((v) => ["authorization", v] as const));
}

/** A query string of arbitrary characters (the URL parser percent-encodes what it must), or a classic oddity. */
export const query = fc.oneof(
  fc.constant(""),
  fc.string({ unit: "binary", maxLength: 30 }).map((s) => `?${s}`),
  fc.constantFrom(
    "?",
    "?a=1&a=2",
    "?%",
    "?%zz",
    "?%ED%A0%80",
    "?model=chat-basic",
    "?stream=true",
    "#fragment",
    "?limit=-1",
    "?__proto__=1",
  ),
);

/** Trailing slashes still match a route (the router allows them), so they stay in the same status class. */
export const trailing = fc.constantFrom("", "", "/", "//");

/** One path segment that no route or stored id can mean: prefixed, percent-encoded, sometimes with broken escapes. */
export function segment(prefix: string): fc.Arbitrary<string> {
  // encodeURIComponent throws on lone surrogates; broken escapes come from the raw suffix instead.
  const text = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ unit: "binary-ascii", maxLength: 30 }),
  );
  return fc
    .tuple(text, fc.constantFrom("", "", "%", "%zz", "%E0%A4%A", "%ED%A0%80", "%FF", "%00", "%2F", "%2e%2e"))
    .map(([s, raw]) => encodeURIComponent(prefix + s) + raw);
}

// --- Signature headers ---

const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toBase64);

/** RFC 9421 Signature-Input values, near-valid to garbage: odd labels, components, parameter values and types. */
export function signatureInput(keyId: string): fc.Arbitrary<string> {
  const component = fc.constantFrom(
    '"@method"',
    '"@authority"',
    '"@path"',
    '"content-digest"',
    '"@query"',
    '"@target-uri"',
    '"@status"',
    '"@fuzz"',
    '"x-missing"',
    '""',
    '"@method";sf',
    "@method",
    '"\\""',
    '"meshgate-node-key"',
  );
  const now = Math.floor(Date.now() / 1000);
  const number = fc.oneof(
    fc.integer({ min: now - 120, max: now + 120 }).map(String),
    fc.integer({ min: -1e15 + 1, max: 1e15 - 1 }).map(String),
    numberText,
  );
  const paramValue = fc.oneof(
    number,
    fc.constantFrom(`"${keyId}"`, '"ed25519"', '"rsa-pss-sha512"', "?1", "token", '"n"', ":AAAA:", '"\\q"', "1.5"),
    headerValue.map((v) => `"${v}"`),
  );
  const param = fc
    .tuple(fc.constantFrom("created", "expires", "nonce", "keyid", "alg", "tag", "Created", "created"), paramValue)
    .map(([k, v]) => `;${k}=${v}`);
  const structured = fc
    .tuple(
      fc.constantFrom("sig1", "sig2", "SIG", "1a", "", "*"),
      fc.array(component, { maxLength: 6 }),
      fc.array(param, { maxLength: 7 }),
      fc.constantFrom("", ", sig2=()", ",", " "),
    )
    .map(([label, comps, params, tail]) => `${label}=(${comps.join(" ")})${params.join("")}${tail}`);
  return fc.oneof({ weight: 3, arbitrary: structured }, { weight: 1, arbitrary: headerValue });
}

export const signature = fc.oneof(
  fc
    .tuple(fc.constantFrom("sig1", "sig2", ""), fc.integer({ min: 0, max: 96 }))
    .chain(([label, n]) => b64(n).map((s) => `${label}=:${s}:`)),
  fc.constantFrom("sig1=:", "sig1=::", "sig1=:====:", "sig1=(", "sig1=?1", "sig1=1"),
  headerValue,
);

export const contentDigest = fc.oneof(
  b64(32).map((s) => `sha-256=:${s}:`),
  b64(64).map((s) => `sha-512=:${s}:`),
  fc.constantFrom("sha-256=:", "sha-256=::", "sha-256=:AAAA:, sha-256=:BBBB:", "md5=:AAAA:"),
  headerValue,
);

/** The node key header: the signer's real key (so the keyid can match), another well-formed key, or junk. */
export function nodeKey(publicKey: string): fc.Arbitrary<string> {
  return fc.oneof(fc.constant(publicKey), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), headerValue);
}

/**
 * A complete, well-formed set of signature headers with a forged signature: required components in any order (some
 * dropped, extras added), times around now, the signer's keyid or another, 64 random bytes or another length. Gets
 * past parsing to the freshness, coverage, key and signature checks, which must all refuse it.
 */
export function forgedSignature(keyId: string, publicKey: string): fc.Arbitrary<HeaderList> {
  const now = Math.floor(Date.now() / 1000);
  return fc
    .record({
      components: fc
        .tuple(fc.boolean(), fc.subarray(['"@query"', '"meshgate-node-key"', '"content-type"']))
        .chain(([complete, extras]) => {
          const all = ['"@method"', '"@authority"', '"@path"', '"content-digest"', ...extras];
          return fc.shuffledSubarray(all, { minLength: complete ? all.length : 1 });
        }),
      // Mostly plausible values, so that a good share gets all the way to the signature check.
      created: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: now - 20, max: now + 20 }) },
        { weight: 1, arbitrary: fc.integer({ min: now - 200, max: now + 200 }) },
      ),
      ttl: fc.oneof(
        { weight: 3, arbitrary: fc.constant(30) },
        { weight: 1, arbitrary: fc.integer({ min: -60, max: 600 }) },
      ),
      nonce: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
      keyid: fc.oneof(
        { weight: 3, arbitrary: fc.constant(keyId) },
        { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      ),
      alg: fc.constantFrom(';alg="ed25519"', ';alg="ed25519"', "", ';alg="hmac-sha256"'),
      sig: fc.oneof(
        { weight: 4, arbitrary: b64(64) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }).chain(b64) },
      ),
      digest: contentDigest,
      key: fc.oneof({ weight: 2, arbitrary: fc.constant(publicKey) }, { weight: 1, arbitrary: nodeKey(publicKey) }),
    })
    .map(
      ({ components, created, ttl, nonce, keyid, alg, sig, digest, key }): HeaderList => [
        [
          "signature-input",
          `sig1=(${components.join(" ")});created=${created};expires=${created + ttl};nonce="${nonce}";keyid="${keyid}"${alg}`,
        ],
        ["signature", `sig1=:${sig}:`],
        ["content-digest", digest],
        ["meshgate-node-key", key],
      ],
    );
}

/** Unsigned garbage: any subset of the four signature headers, each possibly duplicated; or a forged complete set. */
export function signatureHeaders(keyId: string, publicKey: string): fc.Arbitrary<HeaderList> {
  const one = fc.oneof(
    signatureInput(keyId).map((v) => ["signature-input", v] as const),
    signature.map((v) => ["signature", v] as const),
    contentDigest.map((v) => ["content-digest", v] as const),
    nodeKey(publicKey).map((v) => ["meshgate-node-key", v] as const),
  );
  return fc.oneof(fc.array(one, { maxLength: 6 }), forgedSignature(keyId, publicKey));
}

/** How to break a correctly signed request's headers (applied after signing). */
export const headerMutation = fc.record({
  name: fc.constantFrom("signature", "signature-input", "content-digest", "meshgate-node-key"),
  op: fc.constantFrom("delete", "replace", "append", "duplicate", "truncate"),
  value: headerValue,
  cut: fc.nat(),
});

export function mutateHeaders(headers: Headers, m: { name: string; op: string; value: string; cut: number }): void {
  const current = headers.get(m.name) ?? "";
  if (m.op === "delete") headers.delete(m.name);
  else if (m.op === "replace") headers.set(m.name, m.value);
  else if (m.op === "append") headers.append(m.name, m.value);
  else if (m.op === "duplicate") headers.append(m.name, current);
  else headers.set(m.name, current.slice(0, current.length === 0 ? 0 : m.cut % current.length));
}

// --- Body shapes of the client API (always naming unserved models) ---

export interface ClientEndpoint {
  path: string;
  shape: BodyShape;
}

export const CLIENT_ENDPOINTS: readonly ClientEndpoint[] = [
  {
    path: "/v1/chat/completions",
    shape: {
      base: { model: `${FUZZ_MODEL}chat`, messages: [{ role: "user", content: "hi" }], max_tokens: 5 },
      fields: [
        ["model"],
        ["messages"],
        ["messages", 0],
        ["messages", 0, "role"],
        ["messages", 0, "content"],
        ["messages", 1],
        ["max_tokens"],
        ["max_completion_tokens"],
        ["n"],
        ["stream"],
        ["stream_options"],
        ["stream_options", "include_usage"],
        ["tools"],
      ],
      fix: unserved,
    },
  },
  {
    path: "/v1/completions",
    shape: {
      base: { model: `${FUZZ_MODEL}completion`, prompt: "hi", stream: true },
      fields: [
        ["model"],
        ["prompt"],
        ["prompt", 0],
        ["prompt", 0, 0],
        ["max_tokens"],
        ["stream"],
        ["stream_options"],
        ["stream_options", "include_usage"],
        ["suffix"],
      ],
      fix: unserved,
    },
  },
  {
    path: "/v1/embeddings",
    shape: {
      base: { model: `${FUZZ_MODEL}embedding`, input: ["a", "b"] },
      fields: [["model"], ["input"], ["input", 0], ["input", 0, 0], ["dimensions"]],
      fix: unserved,
    },
  },
  {
    path: "/v1/responses",
    shape: {
      base: {
        model: `${FUZZ_MODEL}responses`,
        instructions: "Be brief.",
        input: [
          { role: "user", content: [{ type: "input_text", text: "hi" }] },
          { type: "function_call", call_id: "call_1", name: "f", arguments: "{}" },
          { type: "function_call_output", call_id: "call_1", output: "42" },
        ],
        tools: [{ type: "function", name: "f", parameters: { type: "object" } }],
        max_output_tokens: 5,
      },
      fields: [
        ["model"],
        ["input"],
        ["input", 0],
        ["input", 0, "type"],
        ["input", 0, "role"],
        ["input", 0, "content"],
        ["input", 0, "content", 0],
        ["input", 0, "content", 0, "type"],
        ["input", 1],
        ["input", 1, "id"],
        ["input", 1, "type"],
        ["input", 1, "call_id"],
        ["input", 1, "arguments"],
        ["input", 2, "output"],
        ["instructions"],
        ["tools"],
        ["tools", 0],
        ["tools", 0, "parameters"],
        ["tool_choice"],
        ["text"],
        ["text", "format"],
        ["max_output_tokens"],
        ["stream"],
        ["store"],
        ["reasoning"],
        ["previous_response_id"],
        ["provider"],
      ],
      fix: unserved,
    },
  },
];
