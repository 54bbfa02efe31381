// Reading JSON the node sent, which nothing has checked: a field is read only if it has the expected type.

export type Json = Record<string, unknown>;

/** The value as an object to read fields from; any non-object reads as an empty one. */
export function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/**
 * The answer's choice (index 0) among a chat answer's or chunk's `choices`: the gateway never asks for more than one,
 * so a choice of another index is not the answer and must not be mixed into it.
 */
export function answerChoice(choices: unknown): Json {
  if (!Array.isArray(choices)) return {};
  for (const choice of choices) {
    const c = record(choice);
    if (c["index"] === undefined || c["index"] === 0) return c;
  }
  return {};
}
