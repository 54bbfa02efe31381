import { hashPair, MerkleTree, receiptLeaf, toHex, utf8, verifyMerkleProof } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { orderedLevels, orderedProof } from "./ordered-tree.js";

const leaves = (n: number) => Array.from({ length: n }, (_, i) => receiptLeaf(utf8(`r${i}`)));
const root = (nodes: Uint8Array[]) => orderedLevels(nodes).at(-1)?.[0];

describe("orderedLevels", () => {
  it("pairs the nodes in the order given, not sorted", () => {
    const [a, b, c] = leaves(3).sort((x, y) => toHex(x).localeCompare(toHex(y))) as [Uint8Array, Uint8Array, Uint8Array];
    expect(root([a, b, c])).toEqual(hashPair(hashPair(a, b), c));
    expect(root([c, a, b])).toEqual(hashPair(hashPair(c, a), b));
    expect(toHex(root([c, a, b]) ?? new Uint8Array())).not.toBe(toHex(new MerkleTree([c, a, b]).root));
  });

  it("agrees with MerkleTree on sorted input", () => {
    for (let n = 1; n <= 9; n++) {
      const sorted = leaves(n).sort((x, y) => toHex(x).localeCompare(toHex(y)));
      expect(root(sorted)).toEqual(new MerkleTree(sorted).root);
    }
  });

  it("has no levels above an empty list", () => {
    expect(orderedLevels([])).toEqual([[]]);
  });
});

describe("orderedProof", () => {
  it("verifies every node up to the root, for every count up to 9", () => {
    for (let n = 1; n <= 9; n++) {
      const nodes = leaves(n);
      const levels = orderedLevels(nodes);
      const top = root(nodes) ?? new Uint8Array();
      nodes.forEach((node, i) => expect(verifyMerkleProof(node, orderedProof(levels, i), top)).toBe(true));
      if (n > 1) expect(verifyMerkleProof(nodes[0] as Uint8Array, orderedProof(levels, 1), top)).toBe(false);
    }
  });
});
