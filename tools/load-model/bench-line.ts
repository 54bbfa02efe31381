// The line `npm run bench` prints about Durable Object load: the load model's verdicts, read from its committed tables
// (running the model inside the bench would put its fake clock under the bench's own timers): this design's, and the
// design before it (issue 17) for comparison.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const EDGE_FILE = fileURLToPath(new URL("edge.md", import.meta.url));
export const TODAY_FILE = fileURLToPath(new URL("today.md", import.meta.url));

/** The verdict line of a load-model report ("Goal: … Met." or "… Not met by: …"), or null. */
export function goalLine(report: string): string | null {
  return report.split("\n").find((line) => line.startsWith("Goal:")) ?? null;
}

function goalOf(file: string): string | null {
  return existsSync(file) ? goalLine(readFileSync(file, "utf8")) : null;
}

export function loadModelLine(file = EDGE_FILE, before = TODAY_FILE): string {
  const goal = goalOf(file);
  const where = "tools/load-model/edge.md, from `npm run load-model`";
  if (goal === null) return `Durable Object load: no table yet (${where})`;
  const earlier = goalOf(before);
  const then = earlier === null ? "" : ` Before issue 17 (today.md): ${earlier.replace(/^Goal: [^.]*\. /, "")}`;
  return `Durable Object load at production scale (${where}): ${goal}${then}`;
}
