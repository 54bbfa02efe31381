// Reading JSON the node sent, which nothing has checked: a field is read only if it has the expected type.

export type Json = Record<string, unknown>;

/** The value as an object to read fields from; any non-object reads as an empty one. */
export function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}
