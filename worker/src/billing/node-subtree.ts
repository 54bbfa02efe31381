// One node's subtree in a settlement, built from its leaves in ascending order without holding them all.
//
// Leaves are cut into blocks of `blockLeaves` (a power of two). Because the tree pairs sorted leaves left to right
// and carries an odd one up, the node at level log2(blockLeaves), index j, is exactly the root of block j; the levels
// above pair those block roots in order. So the node's root is the root of levelsOf(block roots), unsorted, and a
// leaf's proof is its proof inside its block followed by its block's proofAt() among the block roots. Memory per
// node: one block of leaves plus one hash per block (1,000,000 receipts → 977 block roots), however many it has.
import { compareBytes, EMPTY_ROOT, fromHex, levelsOf, MerkleTree, proofAt, toHex } from "@meshgate/schemas";

/** Leaves per block, and per page of proofs (GET /v1/settlements/{id}/proof?page=). */
export const BLOCK_LEAVES = 1024;

export interface NodeSubtree {
  /** 0x-hex root of the node's subtree. */
  root: string;
  /** 0x-hex root of each block, in order. */
  blocks: string[];
  /** 0x-hex first (smallest) leaf of each block: where a page of leaves starts. */
  firsts: string[];
}

function leafBytes(hex: string): Uint8Array {
  const bytes = fromHex(hex);
  if (!bytes) throw new Error(`not a 0x-hex leaf: ${hex}`);
  return bytes;
}

export class SubtreeBuilder {
  private block: Uint8Array[] = [];
  private readonly roots: Uint8Array[] = [];
  private readonly firsts: string[] = [];
  private last: Uint8Array | null = null;

  constructor(private readonly blockLeaves = BLOCK_LEAVES) {
    if (!Number.isInteger(Math.log2(blockLeaves))) throw new Error("blockLeaves must be a power of two");
  }

  /** Leaves must come strictly ascending (SQL's ORDER BY leaf over lower-case fixed-length hex is byte order). */
  add(leafHex: string): void {
    const leaf = leafBytes(leafHex);
    if (this.last && compareBytes(this.last, leaf) >= 0)
      throw new Error("leaves must be added in strictly ascending order");
    this.last = leaf;
    if (this.block.length === 0) this.firsts.push(leafHex);
    this.block.push(leaf);
    if (this.block.length === this.blockLeaves) this.closeBlock();
  }

  finish(): NodeSubtree {
    if (this.block.length > 0) this.closeBlock();
    const root = levelsOf(this.roots).at(-1)?.[0] ?? EMPTY_ROOT;
    return { root: toHex(root), blocks: this.roots.map(toHex), firsts: this.firsts };
  }

  private closeBlock(): void {
    this.roots.push(new MerkleTree(this.block).root);
    this.block = [];
  }
}

/**
 * Proofs up to the node's root for every leaf of block `index`, given that block's leaves and every block root.
 * Null for a leaf that is not in the block.
 */
export function blockProofs(
  leaves: readonly string[],
  index: number,
  blockRoots: readonly string[],
): (Uint8Array[] | null)[] {
  const tree = new MerkleTree(leaves.map(leafBytes));
  // The stored block roots and the stored leaves must agree, or every proof of the page would be wrong.
  if (toHex(tree.root) !== blockRoots[index]) throw new Error(`block ${index} does not match its stored root`);
  const upper = proofAt(levelsOf(blockRoots.map(leafBytes)), index);
  return leaves.map((leaf) => {
    const inner = tree.proof(leafBytes(leaf));
    return inner && [...inner, ...upper];
  });
}
