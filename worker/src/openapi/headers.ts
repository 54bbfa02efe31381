// The response headers the gateway sets (components/headers): on every answer, on inference answers, and on refusals
// that say when to retry. A header is named once here; answers list the names they carry.
const text = { type: "string" } as const;

export const HEADERS = {
  "x-request-id": {
    description: "This request's id (`req_…`), as usage rows and the gateway's logs name it.",
    schema: text,
  },
  "x-meshgate-node": {
    description: "The id of the node that answered, or `none` when no node did (errors, the gateway's own routes).",
    schema: text,
  },
  "x-meshgate-attempts": {
    description: "How many nodes were tried for this answer (failover).",
    schema: { type: "string", pattern: "^[0-9]+$" },
  },
  "Server-Timing": {
    description:
      "`gateway` (the gateway's own time), `admit` (taking node slots from admission cells), `failover` (failed attempts, when there were any) and `node` (the node's time to first byte, or to the whole answer), in milliseconds.",
    schema: text,
  },
  "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "string", pattern: "^[0-9]+$" } },
  "x-ratelimit-limit-requests": { description: "The key's requests-per-minute limit (`rpm`).", schema: text },
  "x-ratelimit-remaining-requests": { description: "Requests the key may send now.", schema: text },
  "x-ratelimit-reset-requests": {
    description: "Until the requests bucket is full again, as a Go duration (`1m0s`, `850ms`).",
    schema: text,
  },
  "x-ratelimit-limit-tokens": { description: "The key's tokens-per-minute limit (`tpm`).", schema: text },
  "x-ratelimit-remaining-tokens": { description: "Tokens the key may use now.", schema: text },
  "x-ratelimit-reset-tokens": {
    description: "Until the tokens bucket is full again, as a Go duration.",
    schema: text,
  },
  "Cache-Control": { description: "How long the answer may be cached.", schema: text },
  "Content-Disposition": { description: "The CSV's file name, `usage-<from>-<to>.csv`.", schema: text },
} as const;

export type HeaderName = keyof typeof HEADERS;

/** On every answer but an accepted WebSocket upgrade. */
export const EVERY_ANSWER: readonly HeaderName[] = ["x-request-id", "x-meshgate-node"];

/** OpenAI's rate-limit headers: only for a key with an `rpm` or `tpm` limit, and only that limit's three. */
export const RATE_LIMIT: readonly HeaderName[] = [
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
];

/** On an inference answer: which node, how many tries, where the time went, and the key's limits. */
export const INFERENCE_ANSWER: readonly HeaderName[] = ["x-meshgate-attempts", "Server-Timing", ...RATE_LIMIT];
