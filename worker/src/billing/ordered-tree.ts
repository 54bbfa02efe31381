// The upper levels of a node's subtree, over its block roots in order. The shared MerkleTree sorts its leaves, which
// is right for receipt leaves but not here: block j covers the j-th run of sorted leaves, and only pairing the blocks
// in that order gives the same root as one MerkleTree over every leaf (see node-subtree.ts).
import { hashPair } from "@meshgate/schemas";

/** Every level, the given nodes first (unsorted), root last; an odd one out is carried up as MerkleTree does. */
export function orderedLevels(nodes: readonly Uint8Array[]): Uint8Array[][] {
  let level = [...nodes];
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

/** Sibling hashes from the node at `index` of the first level up to the root. */
export function orderedProof(levels: readonly Uint8Array[][], index: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const sibling = level[i ^ 1];
    if (sibling !== undefined) proof.push(sibling);
    i >>= 1;
  }
  return proof;
}
