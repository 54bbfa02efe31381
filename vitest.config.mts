// Three tiers, each a vitest project: `unit` (pure modules and in-process servers, under Node: seconds), `workers`
// (the Workers runtime: worker/test/ against a real node-agent fleet, and the few worker/src tests that need workerd's
// streams or digests, named *.workers.test.ts), `e2e` (real processes: tools/e2e/ and *.e2e.test.ts beside the
// tools and commands they start). `npm test` runs all three; `npm run test:unit|test:workers|test:e2e` one each.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { makeScratchDir } from "./tools/gateway/scratch.js";
import { TEST_BINDINGS } from "./worker/test/fleet/bindings.js";

// Miniflare (the workers tier's pool, and any test's) keeps scratch files under os.tmpdir() and leaves them behind:
// under .meshgate/tmp, named by this run's pid, they are swept by the next run once this one is gone.
process.env["TMPDIR"] = makeScratchDir("vitest");

const WORKERS_ONLY = "**/*.workers.test.ts";
const E2E_ONLY = "**/*.e2e.test.ts";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["schemas/**/*.test.ts", "node-agent/**/*.test.ts", "tools/**/*.test.ts", "worker/src/**/*.test.ts"],
          exclude: ["**/node_modules/**", "tools/e2e/**", WORKERS_ONLY, E2E_ONLY],
          environment: "node",
          // Pure tests share nothing a fresh module graph per file would protect; loading the graph once per worker
          // rather than once per file is most of this tier's time.
          pool: "threads",
          isolate: false,
        },
      },
      {
        plugins: [
          cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings: TEST_BINDINGS } }),
        ],
        test: {
          name: "workers",
          include: ["worker/test/**/*.test.ts", `worker/src/${WORKERS_ONLY}`],
          globalSetup: ["worker/test/fleet/global-setup.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tools/e2e/**/*.test.ts", `tools/${E2E_ONLY}`, `node-agent/${E2E_ONLY}`],
          environment: "node",
        },
      },
    ],
  },
});
