// The upstream response headers passed on to the gateway; hop-by-hop and server-identifying ones are not.
import type { IncomingHttpHeaders } from "node:http";

const PASSED_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "cache-control",
  "openai-processing-ms",
  "openai-version",
  "x-request-id",
] as const;

export function pickHeaders(from: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of PASSED_HEADERS) {
    const value = from[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function isEventStream(headers: IncomingHttpHeaders): boolean {
  return headers["content-type"]?.startsWith("text/event-stream") ?? false;
}
