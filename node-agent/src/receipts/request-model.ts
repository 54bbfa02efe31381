// The model a request asked for: the `model` field of its JSON body, as the gateway sent it.
import { ModelIdSchema } from "@meshgate/schemas";

/** Null when the body is not a JSON object with a usable model id (no receipt can name it). */
export function requestModel(body: Buffer): string | null {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const parsed = ModelIdSchema.safeParse((value as { model?: unknown }).model);
  return parsed.success ? parsed.data : null;
}
