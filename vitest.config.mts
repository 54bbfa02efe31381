import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
export default defineConfig({
  test: {
    projects: [
      { plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })], test: { name: "worker", include: ["worker/**/*.test.ts"] } },
      { test: { name: "node", include: ["schemas/**/*.test.ts", "node-agent/**/*.test.ts", "tools/**/*.test.ts"], environment: "node" } },
    ],
  },
});
