// The stock agent asks its inference server to report usage on every stream it relays, so the stream's receipt can
// carry the server's exact token counts, and takes that usage out of the stream again when the client did not ask
// for it (receipted-stream.ts), as the gateway relays a node's stream without editing it. This is a courtesy the stock
// agent does for the client, not a security boundary: a modified agent can do anything, so nothing may rely on it.
const STREAMED_PATHS: ReadonlySet<string> = new Set(["/v1/chat/completions", "/v1/completions"]);
const USAGE_ASKED = Buffer.from('"stream_options":{"include_usage":true},');

export interface UpstreamBody {
  /** The body sent upstream: the gateway's bytes, unless usage was asked for. */
  body: Buffer;
  /** Usage was asked for on the client's behalf: the relayed stream must leave it out. */
  hideUsage: boolean;
}

/**
 * For a streamed chat or completions request whose `stream_options.include_usage` is not true, the body with
 * `stream_options: {...its stream_options, include_usage: true}`; any other request as it is.
 */
export function includeUsage(path: string, body: Buffer): UpstreamBody {
  const unchanged = { body, hideUsage: false };
  if (!STREAMED_PATHS.has(path)) return unchanged;
  const request = jsonObject(body);
  if (!request || request["stream"] !== true) return unchanged;
  const options = request["stream_options"];
  if (isObject(options) && options["include_usage"] === true) return unchanged;
  return { body: withUsageAsked(body, request), hideUsage: true };
}

function withUsageAsked(body: Buffer, request: Record<string, unknown>): Buffer {
  // Usually there are no stream_options: the member goes in after the opening brace, and the gateway's bytes stay
  // as they were (written again, an integer past 2^53 would lose digits). The object has members (`stream`) after it.
  if (!Object.hasOwn(request, "stream_options")) {
    const brace = body.indexOf(0x7b);
    return Buffer.concat([body.subarray(0, brace + 1), USAGE_ASKED, body.subarray(brace + 1)]);
  }
  const options = request["stream_options"];
  return Buffer.from(JSON.stringify({ ...request, stream_options: { ...(isObject(options) ? options : {}), include_usage: true } }));
}

/** The body as a JSON object; null when it is not one. */
function jsonObject(body: Buffer): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
  return isObject(value) ? value : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
