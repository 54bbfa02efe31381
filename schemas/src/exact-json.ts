// JSON with exact integers. JSON's grammar has no limit on a number's digits, but JSON.stringify cannot write a
// bigint, and a number above 2^53 has already lost digits. This writer renders a bigint as its exact decimal literal
// (the same text as the number when it is a safe integer), and everything else exactly as JSON.stringify does. It
// writes the literal itself rather than substitute placeholders afterwards, so no string a user chose can turn into
// a number.

export type ExactJson =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly ExactJson[]
  | { readonly [key: string]: ExactJson | undefined };

/** JSON text of `value`; members whose value is undefined are left out, as JSON.stringify does. */
export function exactJson(value: ExactJson): string {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    // JSON.stringify would write null: a figure that is not a number must not pass for a missing one.
    if (!Number.isFinite(value)) throw new RangeError(`${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (isArray(value)) return `[${value.map(exactJson).join(",")}]`;
  const members: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${exactJson(member)}`);
  }
  return `{${members.join(",")}}`;
}

// Array.isArray does not narrow a readonly array type out of a union.
function isArray(value: object): value is readonly ExactJson[] {
  return Array.isArray(value);
}
