// Value-level generators for the hostile-input battery: odd strings and numbers, wrong-typed fields, broken and deep
// JSON, invalid UTF-8. Each body generator is invalid for its endpoint by construction (see the notes on each).
import { concatBytes, utf8 } from "@meshgate/schemas";
import fc from "fast-check";
import type { z } from "zod";

/** No node serves a model with this prefix: a structurally valid inference request naming one must be a 404. */
export const FUZZ_MODEL = "fuzz-no-such-model-";

function parsesBytes(bytes: Uint8Array): boolean {
  try {
    return parses(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return false;
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Strings a parser may trip on: lone surrogates, BOMs, bidi controls, NULs, combining marks, astral characters. */
export const oddString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\ud800",
    "\udfff",
    "\udc00\ud800",
    "\ufeff",
    "\u202e",
    "\uffff",
    "\u{1d544}",
    "e\u0301",
    "\u2028\u2029",
    "\\",
    '"',
    "%00",
  ),
);

const edgeNumbers = fc.constantFrom(
  1e308,
  -1e308,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  Number.MIN_VALUE,
  -0,
  2 ** 31,
  -1,
  0,
  0.5,
  1e21,
  -1e-7,
);

/** A value of any JSON type, including the wrong one for whatever field receives it. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  fc.integer(),
  fc.double(),
  edgeNumbers,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(oddString, { maxLength: 3 }),
  fc.dictionary(oddString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** Numbers as JSON text, valid or not: overflow to Infinity, underflow, leading zeros, hex, NaN, 400 digits. */
export const numberText = fc.oneof(
  fc.constantFrom(
    "1e999",
    "-1e999",
    "1e308",
    "-1e308",
    "1e-999",
    "4.9e-324",
    "9".repeat(400),
    `-${"9".repeat(400)}`,
    "-0",
    "0",
    "-1",
    "1.5",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "01",
    "9007199254740993",
    "1_000",
    "+1",
    ".5",
    "5.",
    "1e",
    "--1",
    "1e+",
    "0.0000001",
  ),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.double().map(String),
);

export type JsonPath = readonly (string | number)[];

/** Sets (or, for undefined, deletes) the value at `path`, creating containers on the way. */
export function withValueAt(base: unknown, path: JsonPath, value: unknown): unknown {
  const copy: unknown = structuredClone(base);
  const root: Record<string | number, unknown> =
    typeof copy === "object" && copy !== null ? (copy as Record<string, unknown>) : {};
  let parent = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      if (value === undefined) delete parent[key];
      else parent[key] = value;
      return;
    }
    const next = parent[key];
    const child =
      typeof next === "object" && next !== null
        ? (next as Record<string | number, unknown>)
        : typeof path[i + 1] === "number"
          ? []
          : {};
    parent[key] = child;
    parent = child as Record<string | number, unknown>;
  });
  return root;
}

/** An inference body naming a served model could be dispatched; every string model gets the unserved prefix. */
export function unserved(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const model = (value as Record<string, unknown>)["model"];
  return typeof model === "string" && !model.startsWith(FUZZ_MODEL) ? { ...value, model: FUZZ_MODEL + model } : value;
}

/**
 * For strict node schemas (heartbeat, key rotation): a body that happens to validate gets an unknown member, which
 * a strictObject refuses, so the registry is never reached.
 */
export function invalidFor(schema: z.ZodType): (bytes: Uint8Array) => Uint8Array {
  return (bytes) => {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      return bytes;
    }
    return schema.safeParse(value).success ? utf8(JSON.stringify({ ...(value as object), fuzz_extra: true })) : bytes;
  };
}

/** fc.anything() as text: undefined has no JSON form, so it is sent as the word. */
const anythingText = fc.anything().map((v) => JSON.stringify(v) ?? String(v));

export interface BodyShape {
  /** A typical body, before `fix`. */
  base: Record<string, unknown>;
  /** Fields to break, nested ones as paths. */
  fields: readonly JsonPath[];
  /** Applied to every generated value (and to `base`): keeps it invalid, or harmless like `unserved`. */
  fix: (value: unknown) => unknown;
}

const BAD_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xef, 0xbb, 0xbf, 0xff],
];

const MULTIPART = '--fuzz\r\nContent-Disposition: form-data; name="model"\r\n\r\nfuzz\r\n--fuzz--\r\n';

/**
 * Bodies for one endpoint: wrong types per field, arbitrary JSON, broken JSON, numbers as text, deep nesting, odd
 * Unicode (escaped and raw), invalid UTF-8, multipart, duplicated keys. `shape.fix` keeps them invalid or harmless.
 */
export function hostileBody(shape: BodyShape): fc.Arbitrary<Uint8Array> {
  const base = JSON.stringify(shape.fix(shape.base));
  const field = fc.constantFrom(...shape.fields);
  const text = (value: unknown) => utf8(JSON.stringify(shape.fix(value)));
  const firstKey = Object.keys(shape.base)[0] ?? "model";
  /** What `fix` makes of `v` as the first key's value: the value a duplicated key finally holds. */
  const fixedFirst = (v: unknown): unknown =>
    (shape.fix(withValueAt(shape.base, [firstKey], v)) as Record<string, unknown>)[firstKey] ?? null;
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(field, fc.option(wrongValue, { nil: undefined }))
        .map(([path, v]) => text(withValueAt(shape.base, path, v))),
    },
    { weight: 2, arbitrary: fc.jsonValue().map(text) },
    { weight: 1, arbitrary: anythingText.map((t) => (parses(t) ? text(JSON.parse(t)) : utf8(t))) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.nat().map((i) => base.slice(0, i % base.length)),
          fc
            .tuple(fc.nat(), fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 3 }))
            .map(([i, s]) => base.slice(0, i % base.length) + s + base.slice(i % base.length)),
          fc.constantFrom(
            "{",
            "}",
            "[",
            "]",
            "{'model':'x'}",
            '{"model":"x",}',
            '{"model":"x" "y":1}',
            "{model:1}",
            "nul",
            "tru",
            "undefined",
            "NaN",
            '"',
            '"\\x"',
            '"\\u12"',
            "[1,]",
            "{}}",
            "\u0000",
          ),
          fc.string({ unit: "binary", maxLength: 60 }),
        )
        .filter((t) => !parses(t))
        .map(utf8),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(field, numberText, fc.boolean())
        .map(([path, n, inArray]) => utf8(spliceAt(text(withValueAt(shape.base, path, "@@")), inArray ? `[${n}]` : n))),
    },
    { weight: 1, arbitrary: deepJson(base).map(utf8) },
    { weight: 2, arbitrary: fc.tuple(field, oddString).map(([path, s]) => text(withValueAt(shape.base, path, s))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(field, fc.constantFrom(...BAD_UTF8))
        .map(([path, bad]) => spliceBytes(text(withValueAt(shape.base, path, "@@")), bad)),
    },
    // Random bytes are almost never JSON; when they are (say `{}`), they go through `fix` like any other value.
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 200 })
        .map((b) => (parsesBytes(b) ? text(JSON.parse(new TextDecoder().decode(b))) : b)),
    },
    { weight: 1, arbitrary: fc.constant(utf8(MULTIPART)) },
    // Duplicated keys: JSON.parse keeps the last; the last is always the broken or unserved one.
    {
      weight: 1,
      arbitrary: wrongValue.map((v) =>
        utf8(`${base.slice(0, -1)},${JSON.stringify(firstKey)}:${JSON.stringify(fixedFirst(v))}}`),
      ),
    },
  );
}

/** Replaces the JSON string "@@" in `bytes` with raw text (a number token that JSON.stringify could not write). */
function spliceAt(bytes: Uint8Array, raw: string): string {
  return new TextDecoder().decode(bytes).replace('"@@"', raw);
}

/** Puts raw bytes in place of the marker inside a JSON string. */
function spliceBytes(bytes: Uint8Array, bad: readonly number[]): Uint8Array {
  const [before = "", after = ""] = new TextDecoder().decode(bytes).split("@@");
  return concatBytes(utf8(before), bad, utf8(after));
}

/** 60 to 1,500 levels: arrays, objects, inside a field, unbalanced, or (harmless) brackets inside a string. */
function deepJson(base: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 60, max: 1_500 }), fc.constantFrom("array", "object", "field", "unbalanced", "string"))
    .map(([n, how]) => {
      switch (how) {
        case "array":
          return "[".repeat(n) + "]".repeat(n);
        case "object":
          return '{"a":'.repeat(n) + "1" + "}".repeat(n);
        case "field":
          return `${base.slice(0, -1)},"deep":${"[".repeat(n)}${"]".repeat(n)}}`;
        case "unbalanced":
          return "[".repeat(n);
        default:
          return `${base.slice(0, -1)},"s":"${"[{".repeat(n)}\\"]"}`;
      }
    });
}
