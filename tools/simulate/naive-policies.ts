// Baselines without load or quality awareness: uniform random and round-robin over the nodes the table lists for the
// model. They fail over like Meshgate (a node already tried is skipped) and know nothing else.
import { MODEL, type Policy, type World } from "./policy.js";

/** Draws before giving up when most of the pool was already tried (only with a pool of one or two nodes). */
const MAX_DRAWS = 8;

export function randomPolicy(world: World): Policy {
  return {
    name: "random",
    usesRouter: true,
    choose(q) {
      const nodes = world.table.pools.get(MODEL)?.nodes ?? [];
      if (nodes.length === 0) return null;
      for (let i = 0; i < MAX_DRAWS; i++) {
        const node = nodes[Math.floor(world.random() * nodes.length)];
        if (node && !q.exclude.has(node.id)) return node;
      }
      return null;
    },
  };
}

export function roundRobinPolicy(world: World): Policy {
  let cursor = 0;
  return {
    name: "round-robin",
    usesRouter: true,
    choose(q) {
      const nodes = world.table.pools.get(MODEL)?.nodes ?? [];
      // At most exclude.size + 1 steps: the excluded nodes, then one that is not.
      for (let i = 0; i < nodes.length && i <= q.exclude.size; i++) {
        cursor = (cursor + 1) % nodes.length;
        const node = nodes[cursor];
        if (node && !q.exclude.has(node.id)) return node;
      }
      return null;
    },
  };
}
