// `node --import tsx tools/bench/routing/run.ts [--decisions N]`: the routing decision-time phase of `npm run bench`,
// alone.
import { parseArgs } from "node:util";
import { formatRoutingBench, runRoutingBench } from "./routing-bench.js";

const { values } = parseArgs({ options: { decisions: { type: "string" } } });
const decisions = Number(values.decisions ?? "100000");
if (!Number.isInteger(decisions) || decisions < 100) throw new Error("--decisions must be an integer ≥ 100");
const results = runRoutingBench({ sizes: [100, 1_000, 10_000], decisions });
process.stdout.write(
  formatRoutingBench(results, `node --import tsx tools/bench/routing/run.ts --decisions ${decisions}`),
);
