// Baseline: always the node with the lowest expected TTFT (the router's own Peak EWMA estimate, `expectedTtft`),
// ignoring load, capacity, reputation and ejection. Kept in a MinTree so a decision is O(log n), not a scan: every
// node's key is refreshed at each table rebuild (the estimate relaxes with time) and after each of its outcomes.
import { expectedTtft, type RoutingTable } from "@meshgate/worker/routing";
import { MinTree } from "./min-tree.js";
import { MODEL, type Policy, type World } from "./policy.js";

export function lowestLatencyPolicy(world: World): Policy {
  const tree = new MinTree(world.mesh.length);
  let listed: number[] = [];
  const listedNow = new Uint8Array(world.mesh.length);

  function refresh(index: number, now: number): void {
    const node = world.route(index);
    tree.set(index, node && listedNow[index] === 1 ? expectedTtft(node, MODEL, now) : Infinity);
  }

  return {
    name: "lowest-latency",
    usesRouter: true,
    onTable(table: RoutingTable, now: number) {
      for (const index of listed) {
        listedNow[index] = 0;
        tree.set(index, Infinity);
      }
      listed = [];
      for (const node of table.pools.get(MODEL)?.nodes ?? []) {
        const index = world.indexOf(node.id);
        listed.push(index);
        listedNow[index] = 1;
        refresh(index, now);
      }
    },
    onObserved(index, now) {
      refresh(index, now);
    },
    choose(q) {
      const saved: [number, number][] = [];
      for (const id of q.exclude) {
        const index = world.indexOf(id);
        saved.push([index, tree.get(index)]);
        tree.set(index, Infinity);
      }
      const best = tree.argmin();
      for (const [index, value] of saved) tree.set(index, value);
      return best < 0 ? null : world.route(best);
    },
  };
}
