// OpenAI's x-ratelimit-* response headers, for the per-minute limits a key has (none for a limit it doesn't).
import { available, msUntilFull, perMinute, type Bucket } from "../limits/token-bucket.js";
import { goDuration } from "../lib/go-duration.js";
import type { KeyLimits, RateLimitHeaders } from "./records.js";

function limitHeaders(kind: "requests" | "tokens", limit: number, bucket: Bucket, now: number): RateLimitHeaders {
  const rate = perMinute(limit);
  return {
    [`x-ratelimit-limit-${kind}`]: String(limit),
    [`x-ratelimit-remaining-${kind}`]: String(available(bucket, rate, now)),
    [`x-ratelimit-reset-${kind}`]: goDuration(msUntilFull(bucket, rate, now)),
  };
}

export function rateLimitHeaders(limits: KeyLimits, requests: Bucket, tokens: Bucket, now: number): RateLimitHeaders {
  return {
    ...(limits.rpm === null ? {} : limitHeaders("requests", limits.rpm, requests, now)),
    ...(limits.tpm === null ? {} : limitHeaders("tokens", limits.tpm, tokens, now)),
  };
}
