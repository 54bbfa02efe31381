// `node --import tsx tools/bench/status/run.ts [--rounds N]`: the mesh status phase of `npm run bench`, alone.
import { parseArgs } from "node:util";
import { formatStatusBench, runStatusBench } from "./status-bench.js";

const { values } = parseArgs({ options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? "30");
if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");
const results = runStatusBench({ sizes: [100, 1_000, 10_000], rounds });
process.stdout.write(formatStatusBench(results, `node --import tsx tools/bench/status/run.ts --rounds ${rounds}`));
