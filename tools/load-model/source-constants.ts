// Numbers the load model needs from Durable Object modules it cannot import under Node (they import
// `cloudflare:workers`), or that those modules keep private: read from the source text, so the model follows the code
// rather than a copy of its figures, and fails loudly if a constant is renamed.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const WORKER_SRC = fileURLToPath(new URL("../../worker/src/", import.meta.url));

/** The value of `const NAME = <number literal>;` (exported or not) in a file under worker/src. */
export function sourceConstant(file: string, name: string): number {
  const text = readFileSync(WORKER_SRC + file, "utf8");
  const match = new RegExp(`(?:^|\\n)(?:export )?const ${name} = ([0-9_]+);`).exec(text);
  if (!match?.[1]) throw new Error(`no numeric constant ${name} in worker/src/${file}`);
  return Number(match[1].replaceAll("_", ""));
}

const CELL = "durable/admission-cell/admission-cell.ts";

/** A cell reports its whole summary to the directory this often while it admits requests. */
export const DIRECTORY_REPORT_MS = sourceConstant(CELL, "DIRECTORY_REPORT_MS");
/** A cell passes its outcomes on to the registry in batches this often. */
export const OUTCOME_BATCH_MS = sourceConstant(CELL, "OUTCOME_BATCH_MS");
