import { MerkleTree, receiptLeaf, toHex, utf8 } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { blockProofs, SubtreeBuilder } from "./node-subtree.js";

/** n distinct leaves, 0x-hex, ascending (as SQL returns them). */
function sortedLeaves(n: number, tag = "r"): string[] {
  return Array.from({ length: n }, (_, i) => toHex(receiptLeaf(utf8(`${tag}${i}`)))).sort();
}

const bytes = (hex: string) => Uint8Array.from(hex.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16));

function build(leaves: string[], blockLeaves: number) {
  const builder = new SubtreeBuilder(blockLeaves);
  for (const leaf of leaves) builder.add(leaf);
  return builder.finish();
}

describe("SubtreeBuilder", () => {
  it("gives the root and proofs of one MerkleTree over every leaf, whatever the block size", () => {
    for (const blockLeaves of [1, 2, 4, 8]) {
      for (const n of [...Array.from({ length: 18 }, (_, i) => i + 1), 31, 32, 33]) {
        const leaves = sortedLeaves(n);
        const whole = new MerkleTree(leaves.map(bytes));
        const subtree = build(leaves, blockLeaves);
        expect(subtree.root).toBe(toHex(whole.root));
        expect(subtree.blocks).toHaveLength(Math.ceil(n / blockLeaves));
        expect(subtree.firsts).toEqual(leaves.filter((_, i) => i % blockLeaves === 0));
        for (let b = 0; b < subtree.blocks.length; b++) {
          const page = leaves.slice(b * blockLeaves, (b + 1) * blockLeaves);
          const proofs = blockProofs(page, b, subtree.blocks);
          for (const [i, leaf] of page.entries())
            expect(proofs[i]?.map(toHex)).toEqual(whole.proof(bytes(leaf))?.map(toHex));
        }
      }
    }
  });

  it("refuses leaves out of order or repeated, and blocks that are not a power of two", () => {
    const [a = "", b = ""] = sortedLeaves(2);
    const builder = new SubtreeBuilder(4);
    builder.add(b);
    expect(() => builder.add(a)).toThrow(/ascending/);
    expect(() => builder.add(b)).toThrow(/ascending/);
    expect(() => new SubtreeBuilder(3)).toThrow(/power of two/);
    expect(() => new SubtreeBuilder(4).add("0xabc")).toThrow(/hex/);
  });
});

describe("blockProofs", () => {
  it("refuses a page whose leaves do not make the stored block root", () => {
    const leaves = sortedLeaves(8);
    const subtree = build(leaves, 4);
    expect(() => blockProofs(leaves.slice(0, 3), 0, subtree.blocks)).toThrow(/stored root/);
    expect(() => blockProofs(leaves.slice(4), 0, subtree.blocks)).toThrow(/stored root/);
  });
});
