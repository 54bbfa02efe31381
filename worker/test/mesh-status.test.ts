// GET /v1/mesh/status and the model list's metadata, through the Worker: what the status page and clients choosing a
// model see.
import { env } from "cloudflare:test";
import { SELF } from "cloudflare:test";
import { describe, expect, it, inject } from "vitest";
import type { MeshStatus } from "@meshgate/schemas";
import type { ModelObject } from "@meshgate/schemas";
import { nodeRegistry } from "../src/durable/names.js";
import { forgetMeshStatus } from "../src/mesh/mesh-status.js";
import { BASE, clientFetch, createApiKey, newNode, registerRoutable } from "./helpers.js";

const fleet = inject("fleet");

async function pricedNode(model: string, prompt: number, completion: number, context: number): Promise<void> {
  const res = await registerRoutable(await newNode(), {
    url: fleet.agent,
    models: [{ id: model, price: { prompt, completion }, context_length: context }],
  });
  expect(res.status).toBe(200);
}

/** The status as a reader sees it once the caches (isolate and colo, a few seconds) have let go of older copies. */
async function statusUntil(ok: (s: MeshStatus) => boolean): Promise<MeshStatus> {
  for (let tries = 0; ; tries++) {
    forgetMeshStatus();
    const res = await SELF.fetch(`${BASE}/v1/mesh/status`);
    expect(res.status).toBe(200);
    const status = (await res.json()) as MeshStatus;
    if (ok(status) || tries > 40) return status;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("GET /v1/models metadata", () => {
  it("gives each model its node count, median price and context length, in OpenRouter's and the settlement's units", {
    timeout: 20_000,
  }, async () => {
    await pricedNode("meta-m", 100_000, 200_000, 8_192);
    await pricedNode("meta-m", 300_000, 600_000, 32_768);
    await pricedNode("meta-m", 9_000_000, 30_000_000, 4_096);
    const { key } = await createApiKey();
    let model: ModelObject | undefined;
    for (let tries = 0; tries < 40 && model?.nodes !== 3; tries++) {
      forgetMeshStatus();
      const list = (await (await clientFetch("/v1/models", key)).json()) as { data: ModelObject[] };
      model = list.data.find((m) => m.id === "meta-m");
      if (model?.nodes !== 3) await new Promise((r) => setTimeout(r, 250));
    }
    expect(model).toMatchObject({
      object: "model",
      nodes: 3,
      context_length: 8_192,
      pricing: {
        prompt: "0.0000003",
        completion: "0.0000006",
        usd_per_million: { prompt: 0.3, completion: 0.6 },
        micro_units_per_million: { prompt: 300_000, completion: 600_000 },
      },
      ttft_ms_p50: null,
    });
  });
});

describe("GET /v1/mesh/status", () => {
  it("is public, lists live nodes and models, and has an hour of traffic by minute", { timeout: 20_000 }, async () => {
    await pricedNode("status-m", 0, 0, 2_048);
    const status = await statusUntil((s) => s.models.some((m) => m.id === "status-m"));
    expect(status.object).toBe("mesh.status");
    expect(status.nodes.live).toBeGreaterThanOrEqual(1);
    expect(status.models.find((m) => m.id === "status-m")).toMatchObject({ nodes: 1, context_length: 2_048 });
    expect(status.traffic.minute_ms).toBe(60_000);
    expect(status.traffic.minutes).toHaveLength(60);
  });

  it("is built once for readers whose clocks (or the instants they asked at) are a little behind", async () => {
    // Each colo's reader passes the instant its request began; they reach the registry in any order.
    const t = Date.now() + 86_400_000;
    const registry = nodeRegistry(env);
    const first = await registry.meshStatus(t);
    const behind = await registry.meshStatus(t - 50);
    expect(behind.at).toBe(first.at);
  });

  it("counts judged answers per minute, and how many succeeded", async () => {
    const now = Date.now();
    const outcome = (kind: "success" | "error", ttftMs: number | null) => ({
      nodeId: "n-traffic",
      model: "traffic-m",
      kind,
      at: now,
      ttftMs,
      tokens: null,
      streamMs: null,
      inFlight: null,
    });
    const registry = nodeRegistry(env);
    // One build serves reads for a few seconds: each read here is later than the last by more than that.
    const hour = async (at: number) => {
      const { minutes } = (await registry.meshStatus(at)).traffic;
      return {
        requests: minutes.reduce((n, m) => n + m.requests, 0),
        ok: minutes.reduce((n, m) => n + m.succeeded, 0),
      };
    };
    const start = await hour(now + 10_000);
    await registry.recordOutcomes(
      [outcome("success", 120), outcome("success", 80), outcome("success", 100), outcome("error", 5)],
      now,
    );
    expect(await hour(now + 20_000)).toEqual({ requests: start.requests + 4, ok: start.ok + 3 });
  });
});
