// The Cron Trigger's health probes, run through the Worker's scheduled() handler against the fleet: a real node agent
// (which answers probes for every test node registered at its URL), a node answering 500, and an address where nothing
// listens.
import {
  createExecutionContext,
  createScheduledController,
  env,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { NODE_TTL_MS, type AdminNode } from "@meshgate/schemas";
import worker from "../src/index.js";
import { adminFetch, newNode, register, registerRoutable, type TestNode } from "./helpers.js";

const fleet = inject("fleet");

const registry = () => env.REGISTRY.get(env.REGISTRY.idFromName("registry"));

async function routableAt(url: string): Promise<TestNode> {
  const node = await newNode();
  const res = await registerRoutable(node, { url: `${url}/` });
  expect(res.status).toBe(200);
  return node;
}

/** Fires the Cron Trigger as production would and waits for the run it hands to waitUntil. */
async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: new Date() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function probesOf(...nodes: TestNode[]): Promise<(AdminNode["probe"] | undefined)[]> {
  const res = await adminFetch("/admin/nodes");
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: AdminNode[] };
  return nodes.map((n) => data.find((d) => d.id === n.id)?.probe);
}

describe("health probes from the Cron Trigger", () => {
  it(
    "marks nodes that answer reachable with a round trip, and the others unreachable, counting failures in " + "a row",
    async () => {
      const live = await routableAt(fleet.agent);
      const failing = await routableAt(fleet.failing);
      const dead = await routableAt(fleet.dead);
      expect(await probesOf(live, failing, dead)).toEqual([null, null, null]);

      const before = Date.now();
      await runCron();
      const [liveProbe, failingProbe, deadProbe] = await probesOf(live, failing, dead);
      expect(liveProbe).toEqual({ reachable: true, rtt_ms: expect.any(Number), at: expect.any(String), failures: 0 });
      expect(liveProbe!.rtt_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(liveProbe!.at)).toBeGreaterThanOrEqual(before);
      expect(failingProbe).toMatchObject({ reachable: false, rtt_ms: null, failures: 1 });
      expect(deadProbe).toMatchObject({ reachable: false, rtt_ms: null, failures: 1 });

      await runCron();
      const again = await probesOf(live, failing, dead);
      expect(again.map((p) => p?.failures)).toEqual([0, 2, 2]);
      expect(again[0]?.reachable).toBe(true);
    },
  );

  it("probes only nodes that may get traffic: not unproven, banned or silent ones", async () => {
    const proven = await routableAt(fleet.agent);
    const unproven = await newNode();
    expect((await register(unproven, { url: `${fleet.agent}/` })).status).toBe(200);
    // At an origin of its own: a ban bans the node's origin too, which must not take the fleet's agent with it.
    const banned = await routableAt("http://127.0.0.1:9");
    expect((await adminFetch(`/admin/nodes/${banned.id}/ban`, { method: "POST" })).status).toBe(200);

    await runCron();
    const [provenProbe, unprovenProbe, bannedProbe] = await probesOf(proven, unproven, banned);
    expect(provenProbe?.reachable).toBe(true);
    expect(unprovenProbe).toBeNull();
    expect(bannedProbe).toBeNull();
    const later = Date.now() + NODE_TTL_MS + 1;
    const targets = await runInDurableObject(registry(), (obj) => obj.probeTargets(later, 10_000));
    expect(targets.map((t) => t.id)).not.toContain(proven.id);
  });
});

describe("NodeRegistry probe records", () => {
  it("lists targets least recently probed first, never-probed before all, at most `limit`", async () => {
    const [a, b, c] = [await routableAt(fleet.agent), await routableAt(fleet.agent), await routableAt(fleet.agent)];
    const now = Date.now();
    await runInDurableObject(registry(), (obj) =>
      obj.recordProbes(
        [
          { nodeId: a.id, reachable: true, rttMs: 3, at: now - 1_000 },
          { nodeId: b.id, reachable: true, rttMs: 3, at: now - 2_000 },
        ],
        now,
      ),
    );
    const mine = new Set([a.id, b.id, c.id]);
    const order = (await runInDurableObject(registry(), (obj) => obj.probeTargets(now, 10_000)))
      .map((t) => t.id)
      .filter((id) => mine.has(id));
    expect(order).toEqual([c.id, b.id, a.id]);
    const first = await runInDurableObject(registry(), (obj) => obj.probeTargets(now, 1));
    expect(first).toHaveLength(1);
    expect(first[0]).toEqual({ id: expect.any(String), url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) });
  });

  it("counts failures in a row, resets them on success, ignores older results and unknown nodes", async () => {
    const node = await routableAt(fleet.agent);
    const t = Date.now();
    const record = (reachable: boolean, at: number, nodeId = node.id) =>
      runInDurableObject(registry(), (obj) =>
        obj.recordProbes([{ nodeId, reachable, rttMs: reachable ? 7.5 : null, at }], at),
      );
    const probe = async () => (await probesOf(node))[0];

    await record(false, t);
    await record(false, t + 1);
    expect(await probe()).toMatchObject({ reachable: false, rtt_ms: null, failures: 2 });
    // A late result from an overlapping run changes nothing.
    await record(true, t - 10);
    expect(await probe()).toMatchObject({ reachable: false, failures: 2 });
    await record(true, t + 2);
    expect(await probe()).toEqual({ reachable: true, rtt_ms: 7.5, at: new Date(t + 2).toISOString(), failures: 0 });

    const stranger = (await newNode()).id;
    await record(true, t + 3, stranger);
    const stored = await runInDurableObject(registry(), (_obj, state) =>
      state.storage.sql.exec("SELECT node_id FROM probes WHERE node_id = ?", stranger).toArray(),
    );
    expect(stored).toEqual([]);
  });
});
