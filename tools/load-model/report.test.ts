import { describe, expect, it } from "vitest";
import { PRODUCTION } from "./config.js";
import { formatTable, reproduceCommand } from "./report.js";
import type { KindLoad } from "./rpc-counter.js";

function load(kind: string, busiest: number): KindLoad {
  return {
    kind,
    objects: 2,
    totalPerSecond: busiest * 2,
    busiest: { name: `${kind}:0`, perSecond: busiest, peakSecond: busiest },
    methods: {},
  };
}

describe("the load model's report", () => {
  it("holds an object to a quarter of the soft limit", () => {
    const table = formatTable([load("AtGoal", 250), load("Over", 251)]);
    expect(table).toMatch(/\| AtGoal +\| +2 \| +500 \| +250 \| +25% \| yes +\|/);
    expect(table).toMatch(/\| Over +\| .* \| \*\*no\*\* +\| `Over:0` \(251\) +\|/);
  });

  it("reproduces a smaller run with only the flags that differ", () => {
    expect(reproduceCommand(PRODUCTION, PRODUCTION)).toBe("npm run load-model");
    expect(reproduceCommand({ ...PRODUCTION, isolates: 10, seconds: 5 }, PRODUCTION)).toBe(
      "npm run load-model -- --isolates 10 --seconds 5",
    );
  });
});
