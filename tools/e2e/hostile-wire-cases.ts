// Generated wire-level malformations for the hostile-wire test. A case is data (the bytes to send), printed readably
// as fast-check's counterexample; every case is invalid by construction for its target.
//
// workerd's own HTTP server (the gateway's local runner) answers a few malformations with a bare 5xx before any
// Worker code runs: an unrecognized method (501), an absolute-form or `*` request target, a bad or repeated Host, a
// repeated Content-Length, or a transfer coding other than chunked (500). Those variants go to the Node targets only;
// the gateway gets them as a fixed list of known runtime failures (`workerdRefusals`), kept visible in the test.
import fc from "fast-check";

export interface Target {
  name: string;
  port: number;
  path: string;
  /** Headers that get the request as far as the target's body handling (an API key), or none. */
  auth: readonly (readonly [string, string])[];
  server: "workerd" | "node";
}

export interface WireCase {
  kind: string;
  target: string;
  port: number;
  parts: readonly Buffer[];
  /** Protocol-level garbage: a bare parser 4xx or a closed connection is an acceptable answer. */
  protocol: boolean;
  statuses?: readonly number[];
  /** Keep our side open after sending (the server must answer without waiting for more). */
  keepOpen?: boolean;
}

const CRLF = "\r\n";

/** Attaches a readable form (the bytes as text, capped) for fast-check's counterexample report. */
function wireCase(c: WireCase): WireCase {
  const total = c.parts.reduce((n, p) => n + p.length, 0);
  const text = Buffer.concat(c.parts.map((p) => p.subarray(0, 600)))
    .toString("latin1")
    .slice(0, 600);
  return Object.assign(c, {
    [fc.toStringMethod]: () => `${c.kind} → ${c.target} (${total} bytes): ${JSON.stringify(text)}`,
  });
}

/** Bodies that no target accepts: unserved model, broken JSON, not JSON at all, nothing. */
const bodies = fc.constantFrom(
  '{"model":"fuzz-no-such-model-wire","messages":[{"role":"user","content":"hi"}]}',
  '{"model":"fuzz-no-such-model-wire","messages":[{"role":"user","content":"hi"}',
  '{"node_id":"x","url":"http://127.0.0.1:9/"}',
  "not json at all",
  "",
);

type Header = readonly [string, string | Buffer];

function head(requestLine: string, headers: readonly Header[]): Buffer {
  const lines = headers.map(([name, value]) =>
    Buffer.concat([
      Buffer.from(`${name}: `, "latin1"),
      Buffer.isBuffer(value) ? value : Buffer.from(value, "latin1"),
      Buffer.from(CRLF),
    ]),
  );
  return Buffer.concat([Buffer.from(requestLine + CRLF, "latin1"), ...lines, Buffer.from(CRLF)]);
}

function baseHeaders(t: Target, body: string): Header[] {
  return [
    ["Host", `127.0.0.1:${t.port}`],
    ...t.auth,
    ["Content-Type", "application/json"],
    ["Content-Length", String(Buffer.byteLength(body))],
    ["Connection", "close"],
  ];
}

/** A variant of a family; `workerd5xx` marks those workerd's HTTP server itself answers with a 5xx. */
interface Variant<T> {
  value: T;
  workerd5xx?: boolean;
}

/** The variants a target gets: all for Node, those workerd handles itself excluded for the gateway. */
function variantsFor<T>(t: Target, variants: readonly Variant<T>[]): fc.Arbitrary<T> {
  return fc.constantFrom(...variants.filter((v) => t.server === "node" || !v.workerd5xx).map((v) => v.value));
}

/** Content-Length promises more than is sent, then the client half-closes (the rest sometimes in a second write). */
export function truncated(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  return fc
    .record({
      t: fc.constantFrom(...targets),
      body: bodies,
      cut: fc.nat(),
      extra: fc.integer({ min: 1, max: 100_000 }),
      split: fc.boolean(),
    })
    .map(({ t, body, cut, extra, split }) => {
      const sent = Buffer.from(body).subarray(0, body.length === 0 ? 0 : cut % body.length);
      const headers = baseHeaders(t, body).map(
        ([n, v]): Header => (n === "Content-Length" ? [n, String(sent.length + extra)] : [n, v]),
      );
      const start = head(`POST ${t.path} HTTP/1.1`, headers);
      return wireCase({
        kind: "truncated body",
        target: t.name,
        port: t.port,
        parts: split ? [start, sent] : [Buffer.concat([start, sent])],
        protocol: true,
      });
    });
}

const DUPLICATES: readonly Variant<string>[] = [
  { value: "content-type" },
  { value: "authorization" },
  { value: "signature" },
  { value: "signature-input" },
  { value: "transfer-encoding+content-length" },
  { value: "content-length-same", workerd5xx: true },
  { value: "content-length-different", workerd5xx: true },
  { value: "host", workerd5xx: true },
];

function duplicateHeaders(dup: string, body: string, token: string): Header[] {
  const length = Buffer.byteLength(body);
  const extras: Record<string, Header[]> = {
    "content-type": [["Content-Type", "text/xml"]],
    authorization: [
      ["Authorization", `Bearer ${token}`],
      ["Authorization", `Bearer ${token}x`],
    ],
    signature: [
      ["Signature", `sig1=:${Buffer.from(token).toString("base64")}:`],
      ["Signature", "sig1=:AAAA:"],
    ],
    "signature-input": [
      ["Signature-Input", 'sig1=("@method");created=1'],
      ["Signature-Input", `sig1=(${token})`],
    ],
    "transfer-encoding+content-length": [["Transfer-Encoding", "chunked"]],
    "content-length-same": [["Content-Length", String(length)]],
    "content-length-different": [["Content-Length", String(length + 1)]],
    host: [["Host", "evil.example"]],
  };
  return extras[dup] ?? [];
}

/**
 * One header sent twice: Content-Type, Authorization, signature headers, Transfer-Encoding beside Content-Length, ...
 */
export function duplicated(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  return fc
    .record({ t: fc.constantFrom(...targets), body: bodies, token: fc.string({ maxLength: 30 }) })
    .chain((r) => variantsFor(r.t, DUPLICATES).map((dup) => ({ ...r, dup })))
    .map(({ t, body, token, dup }) => {
      const headers = [...baseHeaders(t, body), ...duplicateHeaders(dup, body, token)];
      return wireCase({
        kind: `duplicated ${dup}`,
        target: t.name,
        port: t.port,
        parts: [head(`POST ${t.path} HTTP/1.1`, headers), Buffer.from(body)],
        protocol: true,
      });
    });
}

/** No Host header, in HTTP/1.1 (where it is required) and HTTP/1.0. */
export function missingHost(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  return fc
    .record({ t: fc.constantFrom(...targets), body: bodies, version: fc.constantFrom("HTTP/1.1", "HTTP/1.0") })
    .map(({ t, body, version }) => {
      const headers = baseHeaders(t, body).filter(([n]) => n !== "Host");
      return wireCase({
        kind: `missing Host (${version})`,
        target: t.name,
        port: t.port,
        parts: [head(`POST ${t.path} ${version}`, headers), Buffer.from(body)],
        protocol: true,
      });
    });
}

function requestLines(path: string): Variant<string>[] {
  const plain = [
    `POST ${path} HTTP/9.9`,
    `POST ${path} HTTP/1.1 extra`,
    `POST  ${path}  HTTP/1.1`,
    `POST ${path}\x00 HTTP/1.1`,
    `POST ${path}#frag HTTP/1.1`,
    `POST ${path}?%zz HTTP/1.1`,
    `POST ${path}`,
    "POST HTTP/1.1",
    `POST /${"a".repeat(9_000)} HTTP/1.1`,
    `POST /${"a".repeat(70_000)} HTTP/1.1`,
    `POST ${path}\xff HTTP/1.1`,
    `POST /a b HTTP/1.1`,
  ];
  const refusedByWorkerd = [
    `FUZZ ${path} HTTP/1.1`,
    `post ${path} HTTP/1.1`,
    `POST http://evil.example${path} HTTP/1.1`,
    "POST * HTTP/1.1",
    "PRI * HTTP/2.0",
    "",
    " ",
    "HTTP/1.1 200 OK",
    "\x16\x03\x01\x02\x00\x01\x00",
  ];
  return [...plain.map((value) => ({ value })), ...refusedByWorkerd.map((value) => ({ value, workerd5xx: true }))];
}

/** Request lines no parser should take as a valid request for a route that could succeed; random bytes for Node. */
export function garbageRequestLine(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  return fc
    .record({
      t: fc.constantFrom(...targets),
      body: bodies,
      random: fc.uint8Array({ minLength: 1, maxLength: 120 }),
      useRandom: fc.boolean(),
    })
    .chain((r) =>
      variantsFor(r.t, requestLines(r.t.path)).map((line) => ({
        ...r,
        line: r.useRandom && r.t.server === "node" ? Buffer.from(r.random).toString("latin1") : line,
      })),
    )
    .map(({ t, body, line }) =>
      wireCase({
        kind: "garbage request line",
        target: t.name,
        port: t.port,
        parts: [head(line, baseHeaders(t, body)), Buffer.from(body)],
        protocol: true,
      }),
    );
}

const ODD_HEADERS: readonly Variant<string>[] = [
  ...[
    "Authorization",
    "Content-Type",
    "Signature",
    "Signature-Input",
    "Content-Digest",
    "Meshgate-Node-Key",
    "X-Fuzz",
  ].map((value) => ({ value })),
  { value: "Host", workerd5xx: true },
];

/** A header value with a control byte, DEL, bytes above 0x7f, a bare CR or LF, or an obsolete line folding. */
export function oddHeaderBytes(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  const odd = fc.constantFrom(0x00, 0x01, 0x08, 0x0b, 0x1f, 0x7f, 0x80, 0xc3, 0xff, 0x0d, 0x0a);
  const value = fc
    .tuple(fc.uint8Array({ maxLength: 30 }), odd, fc.uint8Array({ maxLength: 10 }))
    .map(([a, o, b]) => Buffer.from([...a, o, ...b]));
  return fc
    .record({ t: fc.constantFrom(...targets), body: bodies, value, fold: fc.boolean() })
    .chain((r) => variantsFor(r.t, ODD_HEADERS).map((name) => ({ ...r, name })))
    .map(({ t, body, name, value, fold }) => {
      const headers = baseHeaders(t, body).filter(([n]) => n !== name);
      const v = fold ? Buffer.concat([Buffer.from("a\r\n "), value]) : value;
      return wireCase({
        kind: `odd bytes in ${name}${fold ? " (folded)" : ""}`,
        target: t.name,
        port: t.port,
        parts: [head(`POST ${t.path} HTTP/1.1`, [...headers, [name, v]]), Buffer.from(body)],
        protocol: true,
      });
    });
}

const CHUNK_BODIES = [
  "zz\r\nabc\r\n0\r\n\r\n",
  "-1\r\nabc\r\n0\r\n\r\n",
  "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
  "0x3\r\nabc\r\n0\r\n\r\n",
  "64\r\nabc\r\n0\r\n\r\n",
  "2\r\nabcdef\r\n0\r\n\r\n",
  "3\r\nabc0\r\n\r\n",
  "3\r\nabc\r\n",
  "3;\x00\r\nabc\r\n0\r\n\r\n",
  "3 \r\nabc\r\n0\r\n\r\n",
  "3\nabc\n0\n\n",
  "3\r\nabc\r\n0\r\nTrailer\x00: x\r\n\r\n",
];
const TRANSFER_ENCODINGS: readonly Variant<string>[] = [
  { value: "chunked" },
  { value: "Chunked" },
  { value: "chunked, chunked" },
  ...["gzip, chunked", "xchunked", "chunked;q=1", "identity"].map((value) => ({ value, workerd5xx: true })),
];

/** Chunked bodies with bad sizes or framing, odd Transfer-Encoding values, or Content-Length beside them. */
export function badChunked(targets: readonly Target[]): fc.Arbitrary<WireCase> {
  return fc
    .record({ t: fc.constantFrom(...targets), body: fc.constantFrom(...CHUNK_BODIES), withLength: fc.boolean() })
    .chain((r) => variantsFor(r.t, TRANSFER_ENCODINGS).map((te) => ({ ...r, te })))
    .map(({ t, body, te, withLength }) => {
      const headers = baseHeaders(t, "").filter(([n]) => n !== "Content-Length");
      const framing: Header[] = [["Transfer-Encoding", te], ...(withLength ? [["Content-Length", "3"] as const] : [])];
      return wireCase({
        kind: `bad chunked (${te}${withLength ? " + Content-Length" : ""})`,
        target: t.name,
        port: t.port,
        parts: [head(`POST ${t.path} HTTP/1.1`, [...headers, ...framing]), Buffer.from(body, "latin1")],
        protocol: true,
      });
    });
}

/**
 * A body past the target's limit: declared in Content-Length (then only its first 64 KiB sent), or sent chunked just
 * past the limit (without the final chunk). Either way the server must answer 413 without waiting for more (or, where
 * the signature is checked before the body, `statuses`). Sending the whole declared body is not asserted: a server
 * that answers early and closes may reset the connection while the client still writes, and the reset can discard
 * the answer before the client reads it.
 */
export function oversized(t: Target, limit: number, statuses: readonly number[] = [413]): fc.Arbitrary<WireCase> {
  return fc.record({ over: fc.integer({ min: 1, max: 64 * 1024 }), chunked: fc.boolean() }).map(({ over, chunked }) => {
    const size = limit + over;
    const headers = baseHeaders(t, "").filter(([n]) => n !== "Content-Length");
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const parts: Buffer[] = [];
    if (chunked) {
      parts.push(head(`POST ${t.path} HTTP/1.1`, [...headers, ["Transfer-Encoding", "chunked"]]));
      for (let sent = 0; sent < size; sent += chunk.length)
        parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from(CRLF));
    } else {
      parts.push(head(`POST ${t.path} HTTP/1.1`, [...headers, ["Content-Length", String(size)]]), chunk);
    }
    return wireCase({
      kind: `oversized (${chunked ? "chunked" : "Content-Length"}, limit + ${over})`,
      target: t.name,
      port: t.port,
      parts,
      protocol: false,
      statuses,
      keepOpen: true,
    });
  });
}

/** One fixed request per malformation that workerd's HTTP server answers with a 5xx itself (see the file comment). */
export function workerdRefusals(t: Target): WireCase[] {
  const body = '{"model":"fuzz-no-such-model-wire"}';
  const request = (line: string, headers: Header[], payload = body) => [
    head(line, headers),
    Buffer.from(payload, "latin1"),
  ];
  const base = baseHeaders(t, body);
  const cases: [string, Buffer[]][] = [
    ["an unrecognized method (FUZZ)", request(`FUZZ ${t.path} HTTP/1.1`, base)],
    ["an absolute-form request target", request(`POST http://evil.example${t.path} HTTP/1.1`, base)],
    ["an asterisk request target", request("POST * HTTP/1.1", base)],
    [
      "a repeated, identical Content-Length",
      request(`POST ${t.path} HTTP/1.1`, [...base, ["Content-Length", String(body.length)]]),
    ],
    [
      "two conflicting Content-Length headers",
      request(`POST ${t.path} HTTP/1.1`, [...base, ["Content-Length", String(body.length + 1)]]),
    ],
    ["two Host headers", request(`POST ${t.path} HTTP/1.1`, [...base, ["Host", "evil.example"]])],
    [
      "a control byte in Host",
      request(`POST ${t.path} HTTP/1.1`, [...base.filter(([n]) => n !== "Host"), ["Host", "\x01"]]),
    ],
    [
      "Transfer-Encoding: gzip, chunked",
      request(
        `POST ${t.path} HTTP/1.1`,
        [...base.filter(([n]) => n !== "Content-Length"), ["Transfer-Encoding", "gzip, chunked"]],
        "3\r\nabc\r\n0\r\n\r\n",
      ),
    ],
  ];
  return cases.map(([kind, parts]) => wireCase({ kind, target: t.name, port: t.port, parts, protocol: true }));
}
