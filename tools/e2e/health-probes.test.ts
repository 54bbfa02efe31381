// Health probes end to end: the gateway's Cron Trigger (fired by tools/gateway, as Miniflare does not) sends signed
// probes to real node agents; the admin API shows which answered and how fast, and a killed agent turns unreachable
// on the next run, while its heartbeats have not yet timed out.
import type { AdminNode } from "@meshgate/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil } from "../processes/index.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

describe("health probes", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "health-probes", probeIntervalMs: 500 });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  const probes = async (): Promise<Map<string, AdminNode["probe"]>> => {
    const res = await fetch(`${cluster.gateway.url}/admin/nodes`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    expect(res.status).toBe(200);
    return new Map(((await res.json()) as { data: AdminNode[] }).data.map((n) => [n.id, n.probe]));
  };

  it("probes every node on its own timer and reports it reachable with a round trip", async () => {
    const ids = cluster.agents.map((a) => a.nodeId);
    const seen = await pollUntil(
      async () => {
        const all = await probes();
        return ids.every((id) => all.get(id)?.reachable) ? all : undefined;
      },
      { what: "both nodes to be probed reachable", timeoutMs: 20_000 },
    );
    for (const id of ids) {
      const probe = seen.get(id);
      expect(probe).toEqual({ reachable: true, rtt_ms: expect.any(Number), at: expect.any(String), failures: 0 });
      expect(probe!.rtt_ms).toBeGreaterThanOrEqual(0);
      expect(probe!.rtt_ms).toBeLessThan(5_000);
    }
  });

  it("marks a killed agent unreachable on the next run, before its heartbeats time out", async () => {
    const [doomed, survivor] = cluster.agents;
    if (!doomed || !survivor) throw new Error("the cluster needs two agents");
    doomed.process.kill("SIGKILL");
    await doomed.process.exited;
    const killedAt = Date.now();
    await cluster.gateway.runScheduled();
    const after = await probes();
    expect(after.get(doomed.nodeId)).toMatchObject({ reachable: false, rtt_ms: null });
    expect(after.get(doomed.nodeId)!.failures).toBeGreaterThanOrEqual(1);
    expect(Date.parse(after.get(doomed.nodeId)!.at)).toBeGreaterThanOrEqual(killedAt - 1_000);
    expect(after.get(survivor.nodeId)).toMatchObject({ reachable: true, failures: 0 });
  });
});
