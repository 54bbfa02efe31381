// The slice of RFC 8941 structured fields that RFC 9421 signature headers use: a dictionary whose members are
// byte sequences (`Signature`) or inner lists of strings with parameters (`Signature-Input`).
import { fromBase64 } from "./base64.js";

export type BareItem = string | number | boolean | Uint8Array;
export type Params = Map<string, BareItem>;
export type InnerList = { items: string[]; params: Params };
export type Member = { value: BareItem | InnerList; params: Params; raw: string };

const KEY = /^[a-z*][a-z0-9_\-.*]*/;
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/;

class Cursor {
  constructor(
    public text: string,
    public pos = 0,
  ) {}
  peek(): string | undefined {
    return this.text[this.pos];
  }
  rest(): string {
    return this.text.slice(this.pos);
  }
  skipSpaces(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  expect(ch: string): void {
    if (this.peek() !== ch) throw new SyntaxError(`expected '${ch}' at ${this.pos}`);
    this.pos++;
  }
  match(re: RegExp): string {
    const m = re.exec(this.rest());
    if (!m) throw new SyntaxError(`unexpected input at ${this.pos}`);
    this.pos += m[0].length;
    return m[0];
  }
}

function parseString(c: Cursor): string {
  c.expect('"');
  let out = "";
  for (;;) {
    const ch = c.peek();
    if (ch === undefined) throw new SyntaxError("unterminated string");
    c.pos++;
    if (ch === '"') return out;
    if (ch === "\\") {
      const next = c.peek();
      if (next !== '"' && next !== "\\") throw new SyntaxError("bad escape");
      out += next;
      c.pos++;
    } else {
      const code = ch.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) throw new SyntaxError("non-ASCII in string");
      out += ch;
    }
  }
}

function parseBareItem(c: Cursor): BareItem {
  const ch = c.peek();
  if (ch === '"') return parseString(c);
  if (ch === ":") {
    c.pos++;
    const body = c.match(/^[A-Za-z0-9+/=]*/);
    c.expect(":");
    const bytes = fromBase64(body);
    if (!bytes) throw new SyntaxError("bad byte sequence");
    return bytes;
  }
  if (ch === "?") {
    c.pos++;
    return c.match(/^[01]/) === "1";
  }
  if (ch !== undefined && /[-0-9]/.test(ch)) {
    const num = c.match(/^-?[0-9]{1,15}/);
    if (c.peek() === ".") throw new SyntaxError("decimals are not supported here");
    return Number(num);
  }
  return c.match(TOKEN);
}

function parseParams(c: Cursor): Params {
  const params: Params = new Map();
  while (c.peek() === ";") {
    c.pos++;
    c.skipSpaces();
    const key = c.match(KEY);
    let value: BareItem = true;
    if (c.peek() === "=") {
      c.pos++;
      value = parseBareItem(c);
    }
    if (params.has(key)) throw new SyntaxError(`duplicate parameter ${key}`);
    params.set(key, value);
  }
  return params;
}

function parseInnerList(c: Cursor): InnerList {
  c.expect("(");
  const items: string[] = [];
  for (;;) {
    c.skipSpaces();
    if (c.peek() === ")") {
      c.pos++;
      return { items, params: parseParams(c) };
    }
    items.push(parseString(c));
    // Component parameters (;sf, ;key, ;req, …) are not part of Meshgate's profile.
    if (c.peek() === ";") throw new SyntaxError("component parameters are not supported");
    const next = c.peek();
    if (next !== " " && next !== ")") throw new SyntaxError("bad inner list");
  }
}

/** Parses a dictionary header; throws SyntaxError on anything malformed. Duplicate keys keep the last, per RFC 8941. */
export function parseDictionary(text: string): Map<string, Member> {
  const out = new Map<string, Member>();
  const c = new Cursor(text.trim());
  while (c.pos < c.text.length) {
    const key = c.match(KEY);
    c.expect("=");
    const start = c.pos;
    const value = c.peek() === "(" ? parseInnerList(c) : parseBareItem(c);
    const params = value instanceof Object && "items" in value ? new Map() : parseParams(c);
    out.set(key, { value, params, raw: c.text.slice(start, c.pos) });
    c.skipSpaces();
    if (c.pos >= c.text.length) break;
    c.expect(",");
    c.skipSpaces();
    if (c.pos >= c.text.length) throw new SyntaxError("trailing comma");
  }
  return out;
}

export function serializeString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
