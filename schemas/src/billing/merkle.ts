// Merkle tree over settlement leaves, chosen so an EVM contract can check a proof with OpenZeppelin's
// `MerkleProof.verify(proof, root, leaf, hasher)` given a sha256 sorted-pair hasher (sha256 is precompile 0x02):
// - inner node = sha256(min(a, b) ‖ max(a, b)), the pair sorted as unsigned bytes, so a proof needs no left/right
// flags;
// - a level's leaves are sorted ascending; an odd one out is carried up unchanged (never paired with itself);
// - a proof lists the sibling hashes from the leaf up; a level where the node was carried up adds nothing.
import { sha256 } from "@noble/hashes/sha2.js";

const HASH_BYTES = 32;
/** The root of a tree with no leaves. */
export const EMPTY_ROOT = new Uint8Array(HASH_BYTES);

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [lo, hi] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const joined = new Uint8Array(lo.length + hi.length);
  joined.set(lo);
  joined.set(hi, lo.length);
  return sha256(joined);
}

/**
 * Every level of a tree over leaves in the order given (not sorted), leaves first, root last; an odd one out is carried
 * up. MerkleTree sorts first; a caller whose leaves are already in order (a node's block roots, each covering the next
 * run of sorted leaves) builds on this directly.
 */
export function levelsOf(orderedLeaves: readonly Uint8Array[]): Uint8Array[][] {
  let level = [...orderedLeaves];
  const all = [level];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Uint8Array;
      const right = level[i + 1];
      next.push(right === undefined ? left : hashPair(left, right));
    }
    all.push(next);
    level = next;
  }
  return all;
}

/** Sibling hashes from the leaf at `index` of levelsOf()'s first level up to the root. */
export function proofAt(levels: readonly (readonly Uint8Array[])[], index: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const sibling = level[i ^ 1];
    if (sibling !== undefined) proof.push(sibling);
    i >>= 1;
  }
  return proof;
}

/** A tree built once, for many proofs (a node's every receipt). */
export class MerkleTree {
  private readonly tree: Uint8Array[][];

  constructor(leaves: readonly Uint8Array[]) {
    this.tree = levelsOf([...leaves].sort(compareBytes));
  }

  get root(): Uint8Array {
    return this.tree.at(-1)?.[0] ?? EMPTY_ROOT;
  }

  /** Sibling hashes from `leaf` up to the root; null when the leaf is not in the tree. */
  proof(leaf: Uint8Array): Uint8Array[] | null {
    const index = (this.tree[0] ?? []).findIndex((l) => compareBytes(l, leaf) === 0);
    return index < 0 ? null : proofAt(this.tree, index);
  }
}

export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  return new MerkleTree(leaves).root;
}

/** Folds a proof from a leaf up; true when it reaches `root`. */
export function verifyMerkleProof(leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, sibling);
  return compareBytes(node, root) === 0;
}

export function toHex(bytes: Uint8Array): string {
  let out = "0x";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Null unless `text` is 0x-prefixed hex of exactly `length` bytes. */
export function fromHex(text: string, length = HASH_BYTES): Uint8Array | null {
  if (!new RegExp(`^0x[0-9a-f]{${length * 2}}$`).test(text)) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(text.slice(2 + i * 2, 4 + i * 2), 16);
  return out;
}
