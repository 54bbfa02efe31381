// The oracle: knows every node's true latency, which nodes are bad, and how many slots each has free, and sends each
// attempt to the honest node with the lowest true median TTFT (round trip + unloaded median) that has a free slot
// (fill fastest first). A MinTree over the honest nodes in that order holds "rank if free, else Infinity".
import { isHonest, type SimNode } from "./mesh.js";
import { MinTree } from "./min-tree.js";
import type { Policy, World } from "./policy.js";

export function trueLatencyMs(node: SimNode): number {
  return node.rttMs + node.ttftMedianMs;
}

export function oraclePolicy(world: World): Policy {
  const honest = world.mesh.filter(isHonest).sort((a, b) => trueLatencyMs(a) - trueLatencyMs(b) || a.index - b.index);
  const rankOf = new Int32Array(world.mesh.length).fill(-1);
  for (const [rank, node] of honest.entries()) rankOf[node.index] = rank;
  const tree = new MinTree(honest.length);

  function update(index: number): void {
    const rank = rankOf[index] ?? -1;
    const node = world.mesh[index];
    if (rank < 0 || !node) return;
    const free = world.present(index) && world.busy(index) < node.trueCapacity;
    tree.set(rank, free ? rank : Infinity);
  }

  for (const node of honest) update(node.index);
  return {
    name: "oracle",
    usesRouter: false,
    onNodeChanged: update,
    choose(q) {
      const hidden: number[] = [];
      for (const id of q.exclude) {
        const rank = rankOf[world.indexOf(id)] ?? -1;
        if (rank >= 0 && tree.get(rank) !== Infinity) {
          hidden.push(rank);
          tree.set(rank, Infinity);
        }
      }
      const best = tree.argmin();
      for (const rank of hidden) tree.set(rank, rank);
      return best < 0 ? null : (honest[best] ?? null);
    },
  };
}
