// Well-formed requests with odd contents that must still be refused: inference for models no node serves (exactly
// 404), and node messages that pass their schema but fail a check made before the registry is called.
import fc from "fast-check";
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  EmbeddingRequestSchema,
  HeartbeatSchema,
  KeyRotationRequestSchema,
} from "@meshgate/schemas";
import type { TestNode } from "./helpers.js";
import { FUZZ_MODEL, oddString } from "./hostile-input-values.js";

const extraFields = fc.dictionary(
  fc
    .string({ maxLength: 12 })
    .filter(
      (k) =>
        ![
          "model",
          "messages",
          "prompt",
          "input",
          "stream",
          "stream_options",
          "max_tokens",
          "max_completion_tokens",
          "n",
        ].includes(k),
    ),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 4 },
);
const model = oddString.map((s) => (FUZZ_MODEL + s).slice(0, 256));
const stream = fc.constantFrom(true, false, null, undefined);
const tokens = fc.option(fc.integer({ min: 1, max: 2 ** 31 }), { nil: undefined });
const textOrTokens = fc.oneof(
  oddString,
  fc.array(oddString, { maxLength: 3 }),
  fc.array(fc.nat(), { maxLength: 5 }),
  fc.array(fc.array(fc.nat(), { maxLength: 3 }), { maxLength: 3 }),
);

const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** A body each endpoint's schema accepts (filtered by that schema), naming a model no node serves. */
export const wellFormedInference = fc.oneof(
  fc
    .record({
      extra: extraFields,
      model,
      role: oddString.filter((r) => r.length >= 1 && r.length <= 64),
      content: fc.jsonValue({ maxDepth: 2 }),
      stream,
      max_tokens: tokens,
      n: fc.option(fc.integer({ min: 1, max: 128 }), { nil: undefined }),
    })
    .map(({ extra, role, content, ...rest }) => ({
      path: "/v1/chat/completions",
      body: defined({ ...extra, ...rest, messages: [{ role, content }] }),
    }))
    .filter((r) => ChatCompletionRequestSchema.safeParse(r.body).success),
  fc
    .record({
      extra: extraFields,
      model,
      prompt: textOrTokens,
      stream,
      max_tokens: fc.option(fc.nat(), { nil: undefined }),
      include_usage: fc.boolean(),
    })
    .map(({ extra, include_usage, ...rest }) => ({
      path: "/v1/completions",
      body: defined({ ...extra, ...rest, stream_options: rest.stream === true ? { include_usage } : undefined }),
    }))
    .filter((r) => CompletionRequestSchema.safeParse(r.body).success),
  fc
    .record({ extra: extraFields, model, input: textOrTokens })
    .map(({ extra, ...rest }) => ({ path: "/v1/embeddings", body: { ...extra, ...rest } }))
    .filter((r) => EmbeddingRequestSchema.safeParse(r.body).success),
);

/** Credentials in the URL: refused by the URL policy, after the clock check, before the registry. */
const refusedUrl = fc.constantFrom(
  "http://user:pass@127.0.0.1:9/",
  "https://user@example.com/",
  "http://:x@[::1]:80/v1?q#f",
  "https://a%40b:c@example.com:8443/",
);
const anyUrl = fc.oneof(refusedUrl, fc.webUrl());
/** More than the allowed 30 s of clock skew, either way. */
const skewMs = fc.oneof(fc.integer({ min: 31_000, max: 10 ** 9 }), fc.integer({ min: -(10 ** 9), max: -31_000 }));

export interface NodeMessage {
  path: "/v1/nodes/heartbeat" | "/v1/nodes/rotate-key";
  body: Record<string, unknown>;
}

/**
 * Schema-valid node messages that a pre-registry check refuses: a heartbeat with a stale timestamp or a credentialed
 * URL; a rotation with a stale timestamp or a new_key_signature that cannot verify. Timestamps are offsets from now.
 */
export function refusedNodeMessage(node: TestNode, otherKey: string): fc.Arbitrary<NodeMessage> {
  const models = fc.array(
    fc
      .record({
        id: oddString.filter((s) => s.length >= 1 && s.length <= 256),
        owned_by: fc.option(
          oddString.filter((s) => s.length >= 1 && s.length <= 128),
          { nil: undefined },
        ),
      })
      .map(defined),
    { maxLength: 4 },
  );
  const heartbeat = fc
    .record({
      stale: fc.boolean(),
      skew: skewMs,
      models,
      url: anyUrl,
      capacity: fc.oneof(fc.constantFrom(1, 100_000), fc.integer({ min: 1, max: 100_000 })),
      in_flight: fc.oneof(fc.constantFrom(0, 1_000_000), fc.nat({ max: 1_000_000 })),
      seq: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.nat()),
    })
    .chain(({ stale, skew, ...hb }) =>
      stale ? fc.constant({ ...hb, skew }) : refusedUrl.map((url) => ({ ...hb, url, skew: 0 })),
    )
    .map(
      ({ skew, ...hb }): NodeMessage => ({
        path: "/v1/nodes/heartbeat",
        body: { node_id: node.id, ...hb, timestamp: Math.max(0, Date.now() + skew) },
      }),
    )
    .filter((m) => HeartbeatSchema.safeParse(m.body).success);
  const rotation = fc
    .record({
      skew: fc.oneof(skewMs, fc.constant(0)),
      signature: fc.stringMatching(/^[A-Za-z0-9_-]{86}$/),
      key: fc.oneof(fc.constant(otherKey), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
    })
    .map(
      ({ skew, signature, key }): NodeMessage => ({
        path: "/v1/nodes/rotate-key",
        body: {
          node_id: node.id,
          new_key: { kty: "OKP", crv: "Ed25519", x: key },
          timestamp: Math.max(0, Date.now() + skew),
          new_key_signature: signature,
        },
      }),
    )
    .filter((m) => KeyRotationRequestSchema.safeParse(m.body).success);
  return fc.oneof(heartbeat, rotation);
}
