import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AdminNode, Heartbeat } from "@meshgate/schemas";
import { keyAccount } from "../src/durable/names.js";
import { challengeDelay } from "../src/limits/challenge-backoff.js";
import { EJECT_AFTER_CONSECUTIVE, type Outcome } from "../src/routing/index.js";
import { adminFetch, newNode, registerRoutable } from "./helpers.js";
import { day, entry } from "./usage-entries.js";

const outcome = (nodeId: string, kind: Outcome["kind"], ttftMs: number | null, at: number): Outcome => ({
  nodeId,
  model: "test-model",
  kind,
  at,
  ttftMs,
  tokens: null,
  streamMs: null,
  inFlight: null,
});

describe("NodeRegistry.recordOutcomes", () => {
  it("folds a batch per node into per-model latency, reputation and request counts", async () => {
    const fast = await newNode();
    const flaky = await newNode();
    await registerRoutable(fast);
    await registerRoutable(flaky);
    const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
    const now = Date.now();
    await runInDurableObject(registry, (obj) =>
      obj.recordOutcomes(
        [
          outcome(fast.id, "success", 30, now),
          outcome(flaky.id, "error", null, now),
          outcome(fast.id, "success", 20, now + 1),
          outcome(flaky.id, "error", null, now + 1),
          outcome("not-registered", "success", 1, now),
        ],
        now + 1,
      ),
    );
    const nodes = await runInDurableObject(registry, (obj) => obj.snapshot(Date.now()));
    const f = nodes.find((n) => n.id === fast.id)!;
    const b = nodes.find((n) => n.id === flaky.id)!;
    expect(f.requests).toBe(2);
    expect(f.latency_ms).toBeGreaterThanOrEqual(20);
    expect(f.latency_ms).toBeLessThanOrEqual(30);
    expect(f.state.perf["test-model"]?.samples).toBe(2);
    expect(f.reputation).toBeCloseTo(0.75, 2);
    expect(b.latency_ms).toBeNull();
    expect(b.reputation).toBeCloseTo(0.25, 2);
  });

  it("keeps estimates only for the models a node still advertises", async () => {
    const node = await newNode();
    await registerRoutable(node);
    const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
    const now = Date.now();
    const ghost = { ...outcome(node.id, "success", 40, now), model: "no-longer-served" };
    await runInDurableObject(registry, (obj) => obj.recordOutcomes([ghost], now));
    await runInDurableObject(registry, (obj) =>
      obj.recordOutcomes([outcome(node.id, "success", 40, now + 1)], now + 1),
    );
    const listed = (await runInDurableObject(registry, (obj) => obj.snapshot(Date.now()))).find(
      (n) => n.id === node.id,
    );
    expect(Object.keys(listed?.state.perf ?? {})).toEqual(["test-model"]);
  });

  it(
    "ejects a node once two clients' timeouts reach it (in separate batches), and keeps the ejection across " +
      "snapshots",
    async () => {
      const bad = await newNode();
      await registerRoutable(bad);
      const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
      const now = Date.now();
      const timeout = (client: string, at: number) => ({ ...outcome(bad.id, "timeout", 10_000, at), client });
      // One client's timeouts, however many, are not enough (timeout-evidence.ts).
      const oneClient = Array.from({ length: EJECT_AFTER_CONSECUTIVE }, (_, i) => timeout("key-a", now + i));
      await runInDurableObject(registry, (obj) => obj.recordOutcomes(oneClient, now + oneClient.length));
      const before = (await runInDurableObject(registry, (obj) => obj.snapshot(Date.now()))).find(
        (n) => n.id === bad.id,
      )!;
      expect(before.state.outlier.ejectedUntil).toBe(0);
      // The evidence is kept in the row, so a second client's timeout in a later batch (another isolate's) completes it.
      await runInDurableObject(registry, (obj) => obj.recordOutcomes([timeout("key-b", now + 10)], now + 10));
      const node = (await runInDurableObject(registry, (obj) => obj.snapshot(Date.now()))).find(
        (n) => n.id === bad.id,
      )!;
      expect(node.state.outlier.ejectedUntil).toBeGreaterThan(Date.now());
      expect(node.state.outlier.ejections).toBe(1);
      // An operator sees why the node gets no traffic.
      const listed = ((await (await adminFetch("/admin/nodes")).json()) as { data: AdminNode[] }).data.find(
        (n) => n.id === bad.id,
      );
      expect(listed?.routing).toMatchObject({ ejections: 1, probation: false, ejected_until: expect.any(String) });
      expect(Date.parse(listed?.routing.ejected_until ?? "")).toBeGreaterThan(Date.now());
      expect(listed?.routing.models["test-model"]?.ttft_ms).toBe(10_000);
    },
  );

  it("learns a lower capacity from a 429 without counting it against the node's reputation", async () => {
    const full = await newNode();
    await registerRoutable(full);
    const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
    const now = Date.now();
    await runInDurableObject(registry, (obj) =>
      obj.recordOutcomes([{ ...outcome(full.id, "busy", 5, now), inFlight: 2 }], now),
    );
    const node = (await runInDurableObject(registry, (obj) => obj.snapshot(Date.now()))).find((n) => n.id === full.id)!;
    // Declared 8; a 429 with 2 others in flight halves it at most (the node may be busy with requests not seen here).
    expect(node.state.learnedCapacity?.limit).toBe(4);
    expect(node.reputation).toBe(0.5);
  });
});

describe("NodeRegistry endpoint challenges", () => {
  it(
    "challenge an unproven node with a growing delay, which a URL change does not reset; a proof " + "clears it",
    async () => {
      const node = await newNode();
      const registry = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
      const t0 = Date.now();
      let seq = 0;
      const beat = (at: number, url = "http://127.0.0.1:46001/") => {
        const hb: Heartbeat = {
          node_id: node.id,
          url,
          models: [],
          capacity: 1,
          in_flight: 0,
          timestamp: at,
          seq: ++seq,
        };
        const signature = {
          keyId: node.id,
          publicKey: node.publicKey,
          nonce: `n${seq}`,
          createdAt: at,
          nonceExpiresAt: at + 60_000,
        };
        return runInDurableObject(registry, (obj) => obj.heartbeat(hb, signature, at, "203.0.113.1"));
      };
      const challenged = async (at: number, url?: string) => {
        const result = await beat(at, url);
        if (!result.ok) throw new Error(result.refusal.message);
        return result.challenge;
      };
      expect(challengeDelay(1)).toBe(10_000);
      expect(challengeDelay(2)).toBe(20_000);
      expect(challengeDelay(50)).toBe(300_000);
      expect(await challenged(t0)).toBe(true);
      expect(await challenged(t0 + 5_000)).toBe(false);
      expect(await challenged(t0 + 10_000)).toBe(true);
      // Flapping between URLs buys no extra challenge: the delay is now 20 s.
      expect(await challenged(t0 + 12_000, "http://127.0.0.1:46002/")).toBe(false);
      expect(await challenged(t0 + 20_000, "http://127.0.0.1:46001/")).toBe(false);
      expect(await challenged(t0 + 30_000)).toBe(true);
      expect(
        await runInDurableObject(registry, (obj) =>
          obj.endpointProven(node.id, "http://127.0.0.1:46001/", node.id, t0 + 30_000),
        ),
      ).toBe(true);
      const proven = await beat(t0 + 31_000);
      expect(proven).toMatchObject({ ok: true, status: "active", challenge: false });
      // A URL change, even back and forth, needs a new proof, and the count starts over after the last proof.
      expect(await beat(t0 + 32_000, "http://127.0.0.1:46002/")).toMatchObject({
        ok: true,
        status: "pending_verification",
        challenge: true,
      });
      expect(await beat(t0 + 33_000, "http://127.0.0.1:46001/")).toMatchObject({
        ok: true,
        status: "pending_verification",
        challenge: false,
      });
    },
  );
});

describe("KeyAccount.settle", () => {
  it("writes a batch in one go, keeps the first copy of a request id, and reports what was new", async () => {
    const account = keyAccount(env, "batch-test");
    expect(
      await runInDurableObject(account, (obj) => obj.record([entry("a"), entry("b", { streamed: false })], Date.now())),
    ).toBe(2);
    expect(
      await runInDurableObject(account, (obj) =>
        obj.record([entry("b", { prompt_tokens: 99 }), entry("c")], Date.now()),
      ),
    ).toBe(1);
    const report = await runInDurableObject(account, (obj) =>
      obj.usage({ from: 0, to: day(1), group_by: null, limit: 10 }),
    );
    expect(report.totals).toMatchObject({ requests: 3n, prompt_tokens: 9n, completion_tokens: 12n, total_tokens: 21n });
    expect(report.rows.find((r) => r.request_id === "b")).toMatchObject({
      streamed: false,
      prompt_tokens: 3,
      latency_ms: 13,
    });
    expect(report.rows.find((r) => r.request_id === "a")?.streamed).toBe(true);
  });

  it("reports a range and limits rows, newest first", async () => {
    const account = keyAccount(env, "range-test");
    await runInDurableObject(account, (obj) =>
      obj.record(
        [entry("x", { created: day(-1, 1) }), entry("y", { created: day(-1, 2) }), entry("z", { created: day(-1, 3) })],
        Date.now(),
      ),
    );
    const report = await runInDurableObject(account, (obj) =>
      obj.usage({ from: day(-1, 1.5), to: day(-1, 4), group_by: null, limit: 1 }),
    );
    expect(report.totals.requests).toBe(2n);
    expect(report.rows.map((r) => r.request_id)).toEqual(["z"]);
    expect(report.has_more).toBe(true);
  });
});
