import { describe, expect, it } from "vitest";
import { runStatusBench } from "./status-bench.js";

describe("the mesh status bench", () => {
  it("builds the model list of each mesh size, smaller than the node list it replaces", () => {
    const [small, large] = runStatusBench({ sizes: [50, 1_000], rounds: 2 });
    expect(small!.models).toBe(40);
    expect(large!.models).toBe(40);
    // The list's size depends on the models, not the nodes.
    expect(large!.statusBytes).toBeLessThan(1.5 * small!.statusBytes);
    expect(large!.statusBytes).toBeLessThan(large!.baselineBytes / 10);
  });
});
