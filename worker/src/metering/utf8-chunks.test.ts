import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Utf8Chunks } from "./utf8-chunks.js";

/** What one TextDecoder fed the same chunks in stream mode makes of them. */
function reference(chunks: readonly Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
}

function ours(chunks: readonly Uint8Array[]): string {
  const text = new Utf8Chunks();
  return chunks.map((c) => text.decode(c)).join("") + text.end();
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

const encode = (s: string) => new TextEncoder().encode(s);

describe("Utf8Chunks", () => {
  it("decodes as one streaming TextDecoder: characters split over chunks, byte order marks, broken bytes", () => {
    const bom = [0xef, 0xbb, 0xbf];
    const cases: Uint8Array[][] = [
      [encode("data: {}\n\n")],
      [new Uint8Array(bom), encode("data: x\n\n")],
      [new Uint8Array([...bom, ...encode("a\n")]), new Uint8Array([...bom, ...encode("b\n")])],
      [new Uint8Array(0), new Uint8Array([0xef, 0xbb]), new Uint8Array([0xbf, 0x61])],
      [encode("é✓").subarray(0, 1), encode("é✓").subarray(1, 4), encode("é✓").subarray(4), encode("\n")],
      [new Uint8Array([0xe2, 0x9c]), encode("\n")],
      [encode("a"), new Uint8Array([0xf0, 0x9f])],
      [new Uint8Array([0xff, 0x0a]), new Uint8Array([0xc3])],
    ];
    for (const chunks of cases) expect(ours(chunks)).toBe(reference(chunks));
  });

  it("agrees with TextDecoder on any bytes cut anywhere", () => {
    const bytes = fc.oneof(
      fc.string({ unit: "binary" }).map(encode),
      fc.uint8Array({ maxLength: 40 }),
      fc
        .tuple(fc.constantFrom(new Uint8Array([0xef, 0xbb, 0xbf]), new Uint8Array(0)), fc.string({ unit: "binary" }))
        .map(([b, s]) => new Uint8Array([...b, ...encode(s)])),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(), { maxLength: 6 }), (b, at) => {
        const chunks = cut(b, at);
        expect(ours(chunks)).toBe(reference(chunks));
      }),
      { numRuns: 2000 },
    );
  });
});
