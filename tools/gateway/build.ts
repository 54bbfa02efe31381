// Bundles the Worker for workerd the way wrangler would: one ES module, Worker export conditions, `cloudflare:*`
// left to the runtime. The bundle is also written under .meshgate/ so it can be inspected.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

export interface WorkerBundle {
  /** Directory Miniflare resolves module paths against. */
  modulesRoot: string;
  /** Module path relative to modulesRoot. */
  path: string;
  contents: string;
}

export async function buildWorker(entry: string, outDir: string): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    target: "es2024",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*"],
    write: false,
    logLevel: "warning",
  });
  const contents = result.outputFiles[0]?.text;
  if (contents === undefined) throw new Error(`esbuild produced no output for ${entry}`);
  mkdirSync(outDir, { recursive: true });
  const path = "worker.js";
  // Several gateways may build at once (parallel test files): write then rename, so readers never see half a file.
  const tmp = join(outDir, `.${path}.${process.pid}.${Date.now()}`);
  writeFileSync(tmp, contents);
  renameSync(tmp, join(outDir, path));
  return { modulesRoot: outDir, path, contents };
}
