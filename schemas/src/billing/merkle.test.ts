import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { utf8 } from "../signing/bytes.js";
import {
  compareBytes,
  EMPTY_ROOT,
  fromHex,
  hashPair,
  levelsOf,
  merkleRoot,
  MerkleTree,
  proofAt,
  toHex,
  verifyMerkleProof,
} from "./merkle.js";

const leaf = (i: number) => sha256(utf8(`leaf-${i}`));
const LEAVES = [0, 1, 2, 3, 4].map(leaf);
const hex = (h: string) => `0x${h}`;

// Computed independently (python3 hashlib: sort the leaves, sha256(min ‖ max) per pair, carry an odd one up) for the
// leaves sha256("leaf-0") … sha256("leaf-4"); proofs are listed per input leaf, in input order.
const D2 = "d2dbf006f96dd05044a8f63d8f118f23925ba4cc5750f8b6c8e287fd506c8188";
const L41 = "4140bf0e8569ed03ec838871ff2f190e9b3ea86bc083d7e9901049f75f00e855";
const L64 = "649837ddcb7e1967086d7d35aaef7b975c513815d96fc6e70015e93a2bfe0f9a";
const L9F = "9fde56c376760bd399b82eb8569229a2dff19219411ac71154dfeab2cf502454";
const L69 = "697f943b9ec5f90eddda8ae7473f5eb688187e3467f312fefa8677dde255042c";
const P43 = "436f8729cd6371869e8ddfaee3bd95e7b1c50ab83fd4773f810fac4138b02ac6";
const P44 = "44435c72122627817e05de3b200544466e23e552880b5a7081ce1182b3902621";
const PC6 = "c6d5c441eb6be54098c9de771a7f1a4c2edbb81e85d0fadf338a7eeac5640009";
const PA6 = "a66e63db0ee26d4e13089288ad3305f36ba029ccbb61ddb536bbb4e33b0e8cd1";

const VECTORS: { n: number; root: string; proofs: string[][] }[] = [
  { n: 1, root: D2, proofs: [[]] },
  { n: 2, root: "70eec33ec1e55edcf6150a2d90fc8f3e8441ebbecbcf9afb84fcb7a8b512a72e", proofs: [[L41], [D2]] },
  {
    n: 3,
    root: "200d59fb6a1000a82fafe991dade6a31977c60fc0014ddd1de420338e7b21caf",
    proofs: [[P43], [L64, D2], [L41, D2]],
  },
  {
    n: 4,
    root: "caee6c2f1aa8fd785562bf192c2e76b2e0d57473a2e4c1e5075d82c9fc2ab4e7",
    proofs: [
      [L9F, P43],
      [L64, P44],
      [L41, P44],
      [D2, P43],
    ],
  },
  {
    n: 5,
    root: "3ac457d4e141e07e07c5a71b7a0defdfb2512ad16eb14988d2ba9779312e7566",
    proofs: [[PA6], [L64, PC6, D2], [L41, PC6, D2], [L69, P43, D2], [L9F, P43, D2]],
  },
];

describe("Merkle tree known vectors", () => {
  it("the leaves are what the vectors were computed from", () => {
    expect(LEAVES.map(toHex)).toEqual([D2, L41, L64, L9F, L69].map(hex));
  });

  for (const v of VECTORS) {
    it(`${v.n} leaves: pinned root and proofs, and every proof verifies`, () => {
      const leaves = LEAVES.slice(0, v.n);
      const tree = new MerkleTree(leaves);
      expect(toHex(tree.root)).toBe(hex(v.root));
      expect(toHex(merkleRoot(leaves))).toBe(hex(v.root));
      leaves.forEach((l, i) => {
        const proof = tree.proof(l);
        expect(proof?.map(toHex)).toEqual(v.proofs[i]?.map(hex));
        expect(verifyMerkleProof(l, proof ?? [], tree.root)).toBe(true);
      });
    });
  }

  it("an odd leaf is carried up unchanged, never paired with itself", () => {
    // 3 leaves: sorted [41…, 64…, d2…]; d2… is the odd one, so the root pairs it with hash(41…, 64…) directly.
    const [a, b, c] = [fromHex(hex(L41)), fromHex(hex(L64)), fromHex(hex(D2))];
    if (!a || !b || !c) throw new Error("bad hex");
    expect(toHex(merkleRoot(LEAVES.slice(0, 3)))).toBe(toHex(hashPair(hashPair(a, b), c)));
    expect(toHex(merkleRoot(LEAVES.slice(0, 3)))).not.toBe(toHex(hashPair(hashPair(a, b), hashPair(c, c))));
  });

  it("does not depend on the order of the input leaves", () => {
    const root = merkleRoot(LEAVES);
    for (const order of [
      [4, 3, 2, 1, 0],
      [2, 0, 4, 1, 3],
      [1, 4, 0, 3, 2],
    ]) {
      const shuffled = order.map((i) => LEAVES[i] as Uint8Array);
      expect(toHex(merkleRoot(shuffled))).toBe(toHex(root));
      expect(new MerkleTree(shuffled).proof(LEAVES[3] as Uint8Array)?.map(toHex)).toEqual(
        new MerkleTree(LEAVES).proof(LEAVES[3] as Uint8Array)?.map(toHex),
      );
    }
  });

  it("has the all-zero root when empty", () => {
    expect(merkleRoot([])).toEqual(EMPTY_ROOT);
    expect(new MerkleTree([]).root).toEqual(EMPTY_ROOT);
    expect(toHex(EMPTY_ROOT)).toBe(hex("00".repeat(32)));
  });
});

describe("Merkle proofs refuse tampering", () => {
  const tree = new MerkleTree(LEAVES);
  const target = LEAVES[1] as Uint8Array;
  const proof = tree.proof(target) ?? [];
  const flip = (bytes: Uint8Array) => {
    const out = bytes.slice();
    out[5] = (out[5] ?? 0) ^ 1;
    return out;
  };

  it("verifies untampered", () => {
    expect(proof.length).toBe(3);
    expect(verifyMerkleProof(target, proof, tree.root)).toBe(true);
  });

  it("fails for a changed leaf, root or proof step, a dropped step and another leaf's proof", () => {
    expect(verifyMerkleProof(flip(target), proof, tree.root)).toBe(false);
    expect(verifyMerkleProof(target, proof, flip(tree.root))).toBe(false);
    for (const i of proof.keys()) {
      const tampered = proof.map((s, j) => (j === i ? flip(s) : s));
      expect(verifyMerkleProof(target, tampered, tree.root)).toBe(false);
    }
    expect(verifyMerkleProof(target, proof.slice(0, -1), tree.root)).toBe(false);
    expect(verifyMerkleProof(target, tree.proof(LEAVES[2] as Uint8Array) ?? [], tree.root)).toBe(false);
  });

  it("has no proof for a leaf not in the tree", () => {
    expect(tree.proof(leaf(99))).toBeNull();
  });
});

describe("levelsOf and proofAt: a tree over leaves in the order given", () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => leaf(i));
  const rootOf = (nodes: Uint8Array[]) => levelsOf(nodes).at(-1)?.[0];

  it("pairs the leaves in the order given, not sorted", () => {
    const [a, b, c] = many(3).sort(compareBytes) as [Uint8Array, Uint8Array, Uint8Array];
    expect(rootOf([a, b, c])).toEqual(hashPair(hashPair(a, b), c));
    expect(rootOf([c, a, b])).toEqual(hashPair(hashPair(c, a), b));
    expect(toHex(rootOf([c, a, b]) ?? EMPTY_ROOT)).not.toBe(toHex(new MerkleTree([c, a, b]).root));
  });

  it("agrees with MerkleTree on sorted leaves, root and proofs, for every count up to 9", () => {
    for (let n = 1; n <= 9; n++) {
      const sorted = many(n).sort(compareBytes);
      const levels = levelsOf(sorted);
      const tree = new MerkleTree(sorted);
      expect(rootOf(sorted)).toEqual(tree.root);
      for (const [i, l] of sorted.entries()) expect(proofAt(levels, i).map(toHex)).toEqual(tree.proof(l)?.map(toHex));
    }
  });

  it("proves every unsorted leaf up to its root, and not at another leaf's index", () => {
    for (let n = 1; n <= 9; n++) {
      const nodes = many(n).reverse();
      const levels = levelsOf(nodes);
      const top = rootOf(nodes) ?? EMPTY_ROOT;
      for (const [i, node] of nodes.entries()) expect(verifyMerkleProof(node, proofAt(levels, i), top)).toBe(true);
      if (n > 1) expect(verifyMerkleProof(nodes[0] as Uint8Array, proofAt(levels, 1), top)).toBe(false);
    }
  });

  it("has no levels above no leaves", () => {
    expect(levelsOf([])).toEqual([[]]);
  });
});

describe("hex", () => {
  it("round-trips and refuses anything but lower-case 0x-hex of the right length", () => {
    expect(fromHex(toHex(LEAVES[0] as Uint8Array))).toEqual(LEAVES[0]);
    expect(fromHex(hex(D2.toUpperCase()))).toBeNull();
    expect(fromHex(D2)).toBeNull();
    expect(fromHex(hex(D2.slice(2)))).toBeNull();
    expect(fromHex(hex(`${D2}00`))).toBeNull();
    expect(fromHex("0x0a0b", 2)).toEqual(new Uint8Array([10, 11]));
  });
});
