import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WRANGLER_TOML } from "./paths.js";
import { readGatewayConfig } from "./wrangler-config.js";

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "meshgate-toml-")), "wrangler.toml");
  writeFileSync(path, text);
  return path;
}

const SAMPLE = `
name = "sample"
main = "src/index.ts"
compatibility_date = "2026-04-20"
compatibility_flags = ["nodejs_compat"]

[vars]
GREETING = "hi"
COUNT = 3

[[durable_objects.bindings]]
name = "A"
class_name = "Alpha"

[[durable_objects.bindings]]
name = "B"
class_name = "Beta"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Alpha"]

[[migrations]]
tag = "v2"
new_classes = ["Beta"]
`;

describe("reading wrangler.toml for the local gateway", () => {
  it("serves the repository's Worker with SQLite-backed Durable Objects and its compatibility flags", () => {
    const config = readGatewayConfig(WRANGLER_TOML);
    expect(config.main).toMatch(/worker\/src\/index\.ts$/);
    expect(config.compatibilityFlags).toContain("enable_request_signal");
    expect(config.durableObjects).toEqual({
      REGISTRY: { className: "NodeRegistry", useSQLite: true },
      SESSIONS: { className: "NodeSession", useSQLite: true },
      CELLS: { className: "AdmissionCell", useSQLite: true },
      DIRECTORY: { className: "CellDirectory", useSQLite: true },
      KEYS: { className: "ApiKeys", useSQLite: true },
      KEY_CHANGES: { className: "KeyChanges", useSQLite: true },
      ACCOUNTS: { className: "KeyAccount", useSQLite: true },
      EARNINGS: { className: "EarningsShard", useSQLite: true },
      SETTLEMENTS: { className: "Settlements", useSQLite: true },
      ROLLUP: { className: "UsageRollup", useSQLite: true },
    });
    expect(config.crons).toEqual(["* * * * *"]);
    expect(config.assets).toEqual({ directory: expect.stringMatching(/worker\/public$/), binding: "ASSETS" });
  });

  it("serves static assets through their binding, and only with the Worker running first", () => {
    const assets = '\n[assets]\ndirectory = "public"\nbinding = "FILES"\n';
    const config = readGatewayConfig(configFile(`${SAMPLE}${assets}run_worker_first = true\n`));
    expect(config.assets).toEqual({ directory: expect.stringMatching(/\/public$/), binding: "FILES" });
    expect(readGatewayConfig(configFile(SAMPLE)).assets).toBeUndefined();
    // Without run_worker_first the asset router would answer first, which the gateway's direct socket bypasses.
    expect(() => readGatewayConfig(configFile(`${SAMPLE}${assets}`))).toThrow(/run_worker_first/);
  });

  it("derives SQLite storage from the migrations and keeps plain vars", () => {
    const config = readGatewayConfig(configFile(SAMPLE));
    expect(config.durableObjects).toEqual({
      A: { className: "Alpha", useSQLite: true },
      B: { className: "Beta", useSQLite: false },
    });
    expect(config.vars).toEqual({ GREETING: "hi", COUNT: 3 });
    expect(config.compatibilityFlags).toEqual(["nodejs_compat"]);
    expect(config.crons).toEqual([]);
  });

  it("carries SQLite storage over a class rename, and only a SQLite class's", () => {
    const renamed = `${SAMPLE}
[[durable_objects.bindings]]
name = "C"
class_name = "Gamma"

[[durable_objects.bindings]]
name = "D"
class_name = "Delta"

[[migrations]]
tag = "v3"
renamed_classes = [{ from = "Alpha", to = "Gamma" }, { from = "Beta", to = "Delta" }]
`;
    const config = readGatewayConfig(configFile(renamed));
    expect(config.durableObjects).toMatchObject({
      C: { className: "Gamma", useSQLite: true },
      D: { className: "Delta", useSQLite: false },
    });
    // The old name's storage moved: a binding still naming it would no longer be SQLite-backed.
    expect(config.durableObjects["A"]).toEqual({ className: "Alpha", useSQLite: false });
  });

  it("refuses a binding kind the local gateway cannot serve instead of leaving it missing", () => {
    expect(() => readGatewayConfig(configFile(`${SAMPLE}\n[[kv_namespaces]]\nbinding = "KV"\nid = "x"\n`))).toThrow(
      /kv_namespaces/,
    );
  });

  it("reports malformed TOML", () => {
    expect(() => readGatewayConfig(configFile("main = "))).toThrow();
  });
});
