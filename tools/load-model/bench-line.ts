// The line `npm run bench` prints about Durable Object load: the load model's verdict on today's design, read from
// its committed table (running the model inside the bench would put its fake clock under the bench's own timers).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const TODAY_FILE = fileURLToPath(new URL("today.md", import.meta.url));

/** The verdict line of a load-model report ("Goal: … Met." or "… Not met by: …"), or null. */
export function goalLine(report: string): string | null {
  return report.split("\n").find((line) => line.startsWith("Goal:")) ?? null;
}

export function loadModelLine(file = TODAY_FILE): string {
  const goal = existsSync(file) ? goalLine(readFileSync(file, "utf8")) : null;
  const where = "tools/load-model/today.md, from `npm run load-model`";
  return goal === null
    ? `Durable Object load: no table yet (${where})`
    : `Durable Object load at production scale, today's design (${where}): ${goal}`;
}
