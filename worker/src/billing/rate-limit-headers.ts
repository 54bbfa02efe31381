// OpenAI's x-ratelimit-* response headers, for the per-minute limits a key has (none for a limit it doesn't).
import { goDuration } from "../lib/go-duration.js";
import { msUntilFull, remaining, type Bucket } from "./rate-limit.js";
import type { KeyLimits, RateLimitHeaders } from "./records.js";

function limitHeaders(kind: "requests" | "tokens", limit: number, bucket: Bucket, now: number): RateLimitHeaders {
  return {
    [`x-ratelimit-limit-${kind}`]: String(limit),
    [`x-ratelimit-remaining-${kind}`]: String(remaining(bucket, limit, now)),
    [`x-ratelimit-reset-${kind}`]: goDuration(msUntilFull(bucket, limit, now)),
  };
}

export function rateLimitHeaders(limits: KeyLimits, requests: Bucket, tokens: Bucket, now: number): RateLimitHeaders {
  return {
    ...(limits.rpm === null ? {} : limitHeaders("requests", limits.rpm, requests, now)),
    ...(limits.tpm === null ? {} : limitHeaders("tokens", limits.tpm, tokens, now)),
  };
}
