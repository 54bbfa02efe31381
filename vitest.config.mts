import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_BINDINGS } from "./worker/test/fleet/bindings.js";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings: TEST_BINDINGS } }),
        ],
        test: { name: "worker", include: ["worker/**/*.test.ts"], globalSetup: ["worker/test/fleet/global-setup.ts"] },
      },
      {
        test: {
          name: "node",
          include: ["schemas/**/*.test.ts", "node-agent/**/*.test.ts", "tools/**/*.test.ts"],
          environment: "node",
        },
      },
    ],
  },
});
