// Reads a JSON request body within a byte limit and validates it; every failure is a 4xx naming the culprit.
import { concatBytes } from "@meshgate/schemas";
import type { z } from "zod";
import { HttpError } from "./http-error.js";

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface JsonBody<T> {
  value: T;
  bytes: Uint8Array;
}

/** Reads the whole body, refusing (413) as soon as it passes `limit` bytes, and (400) one that breaks off. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array();
  try {
    // With a declared length within the limit the runtime reads the body natively in one go.
    if (declared !== null) return new Uint8Array(await request.arrayBuffer());
    return await readChunks(request.body, limit);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // A client that hangs up mid-body, or sends broken chunked framing: its request, not the gateway, is at fault.
    throw new HttpError(400, "The request body could not be read: it ended early or its framing is invalid.", {
      code: "incomplete_body",
    });
  }
}

/** Reads a stream whole, cancelling it and throwing a 413 HttpError as soon as it passes `limit` bytes. */
export async function readChunks(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body too large: the limit is ${limit} bytes.`, { code: "request_too_large" });
}

export function paramPath(path: ReadonlyArray<PropertyKey>): string | null {
  if (path.length === 0) return null;
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    "",
  );
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Deeper JSON is refused before parsing: re-serializing it (streamed requests are) would overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in `text`, counting only brackets outside strings; stops past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export function parseJson<T>(bytes: Uint8Array, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    const text = decoder.decode(bytes);
    if (jsonDepth(text) > MAX_JSON_DEPTH) {
      throw new HttpError(400, `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`, {
        code: "json_too_deep",
      });
    }
    raw = JSON.parse(text);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, "We could not parse the JSON body of your request.", { code: "invalid_json" });
  }
  return validJson(raw, schema);
}

/** A parsed body checked against its schema: a 400 naming the first field at fault. */
export function validJson<T>(raw: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue ? paramPath(issue.path) : null;
    const message = issue ? `Invalid ${param ?? "body"}: ${issue.message}` : "Invalid request body.";
    throw new HttpError(400, message, { param, code: "invalid_value" });
  }
  return parsed.data;
}

export async function readJson<T>(
  request: Request,
  schema: z.ZodType<T>,
  limit = MAX_BODY_BYTES,
): Promise<JsonBody<T>> {
  const type = request.headers.get("content-type");
  // curl -d sends form-encoded and fetch() with a string body sends text/plain; accept both so hand-written clients
  // work.
  if (type !== null && !/^(?:application\/(?:(?:[\w.+-]+\+)?json|x-www-form-urlencoded)|text\/plain)\b/i.test(type)) {
    throw new HttpError(415, "Content-Type must be application/json.", { code: "unsupported_media_type" });
  }
  const bytes = await readBody(request, limit);
  return { value: parseJson(bytes, schema), bytes };
}
