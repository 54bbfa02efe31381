// Test processes keep their output to themselves unless a test fails: lines are kept and shown on demand.
import type { LineSink } from "../../processes/index.js";

const kept: string[] = [];

/** A sink that records `[name] line` instead of printing it; set MESHGATE_E2E_VERBOSE=1 to print as well. */
export function quietSink(name: string): LineSink {
  const verbose = process.env["MESHGATE_E2E_VERBOSE"] === "1";
  return (line) => {
    kept.push(`[${name}] ${line}`);
    if (kept.length > 2_000) kept.shift();
    if (verbose) process.stdout.write(`[${name}] ${line}\n`);
  };
}

export function recentOutput(lines = 50): string {
  return kept.slice(-lines).join("\n");
}
