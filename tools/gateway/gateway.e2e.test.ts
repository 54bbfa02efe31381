// The local gateway: served by a workerd process whose pid it reports, stopped without leaving it or its scratch files
// behind, and keeping Durable Object state across restarts when asked to.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { E2E } from "../e2e/support/timeouts.js";
import { pollUntil, readProcStat } from "../processes/index.js";
import { apiKeyWorks, createApiKey } from "./admin.js";
import { generateDevVars } from "./dev-vars.js";
import { startGateway } from "./gateway.js";
import { SCRATCH_ROOT } from "./scratch.js";

const quiet = () => {};

describe("startGateway", E2E, () => {
  it("serves the Worker from a workerd process it can name, and stops it", async () => {
    const gateway = await startGateway({ vars: generateDevVars(), sink: quiet });
    try {
      const metadata = await fetch(`${gateway.url}/.well-known/meshgate.json`);
      expect(metadata.status).toBe(200);
      expect(await metadata.json()).toMatchObject({ issuer: "meshgate", heartbeat_path: "/v1/nodes/heartbeat" });
      expect(gateway.pid).toBeTypeOf("number");
      expect(readFileSync(`/proc/${gateway.pid}/comm`, "utf8").trim()).toBe("workerd");
      // utime and stime (fields 14 and 15) are what the benchmark reads.
      const fields = readFileSync(`/proc/${gateway.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      expect(Number(fields[11]) + Number(fields[12])).toBeGreaterThan(0);
    } finally {
      await gateway.stop();
    }
    const pid = gateway.pid ?? 0;
    await pollUntil(() => ((readProcStat(pid)?.state ?? "Z") === "Z" ? true : undefined), {
      what: "workerd to exit",
      timeoutMs: 10_000,
    });
    await expect(fetch(`${gateway.url}/v1/nodes`)).rejects.toThrow();
  });

  it("keeps API keys across a restart when state is persisted", async () => {
    const vars = generateDevVars();
    const persistDir = mkdtempSync(join(tmpdir(), "meshgate-state-"));
    const first = await startGateway({ vars, persistDir, sink: quiet });
    let key: string;
    try {
      ({ key } = await createApiKey(first.url, vars.ADMIN_TOKEN, "persisted"));
      expect(await apiKeyWorks(first.url, key)).toBe(true);
    } finally {
      await first.stop();
    }
    const second = await startGateway({ vars, persistDir, sink: quiet });
    try {
      expect(await apiKeyWorks(second.url, key)).toBe(true);
      expect(await apiKeyWorks(second.url, "mg-not-a-key")).toBe(false);
    } finally {
      await second.stop();
    }
  });

  it("keeps Miniflare's scratch files under .meshgate/tmp, not /tmp, and removes them when stopped", async () => {
    const ours = () =>
      (existsSync(SCRATCH_ROOT) ? readdirSync(SCRATCH_ROOT) : []).filter((d) =>
        d.startsWith(`gateway-${process.pid}-`),
      );
    const before = new Set(ours());
    const gateway = await startGateway({ vars: generateDevVars(), sink: quiet });
    let scratch: string | undefined;
    try {
      [scratch] = ours().filter((d) => !before.has(d));
      expect(scratch).toBeDefined();
      expect(readdirSync(join(SCRATCH_ROOT, scratch!))).toEqual([expect.stringMatching(/^miniflare-[0-9a-f]{32}$/)]);
    } finally {
      await gateway.stop();
    }
    expect(existsSync(join(SCRATCH_ROOT, scratch!))).toBe(false);
  });
});
