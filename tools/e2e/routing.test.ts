// Routing between real node agents whose backends answer in about 20, 60 and 200 ms: after a warm-up the fastest
// node carries most of the traffic, never more than its capacity at once, the response headers say who answered
// and what it cost, the client's OpenRouter-style controls steer it, and killing the fastest agent mid-run costs no
// client a failed request. Routing is randomised (power of two choices, a little exploration), so the assertions
// are about clear majorities and about things that must never happen, not about exact shares or times.
import { type APIError, BadRequestError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNodes } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { startCluster, type Cluster } from "./support/cluster.js";
import { routedChat, sequential, tally, type RoutedAnswer } from "./support/routed.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const FAST = 0;
const MEDIUM = 1;
const SLOW = 2;
const LATENCIES = [20, 60, 200] as const;
const FAST_CAPACITY = 2;
/**
 * The others hold more, so a burst of 8 fits in the mesh (2 + 4 + 4, with room for a heartbeat's stale in-flight
 * count); an idle node costs its latency whatever its slot count, so speed decides.
 */
const OTHER_CAPACITY = 4;
/** Tokens of a request that should hold its node for a while (×TOKEN_INTERVAL_MS ms of streaming). */
const LONG_ANSWER_TOKENS = 150;
const TOKEN_INTERVAL_MS = 2;

describe("routing by measured speed", E2E, () => {
  let cluster: Cluster;
  const id = (i: number): string => cluster.agents[i]?.nodeId ?? "";
  const name = (node: string): string =>
    ["fast", "medium", "slow"][cluster.agents.findIndex((a) => a.nodeId === node)] ?? node;
  const requestsTo = (i: number): number => cluster.backends[i]?.stats().requests ?? 0;
  const describeTally = (answers: readonly RoutedAnswer[]): string =>
    [...tally(answers)].map(([node, n]) => `${name(node)}=${n}`).join(" ");

  /** What the gateway has learned of each node, for failure messages. */
  const learned = async (): Promise<string> =>
    (await listNodes(cluster.gateway.url))
      .map(
        (n) =>
          `${name(n.id)}: latency_ms=${n.latency_ms} reputation=${n.reputation} requests=${n.requests} in_flight=${n.in_flight}`,
      )
      .join("; ");

  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: "routing",
      nodes: LATENCIES.map((latencyMs, i) => ({
        latencyMs,
        tokenIntervalMs: TOKEN_INTERVAL_MS,
        capacity: i === FAST ? FAST_CAPACITY : OTHER_CAPACITY,
      })),
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("sends most traffic to the fastest node once it has measured them", async () => {
    const warmUp = await sequential(cluster.client, 30);
    const before = [FAST, MEDIUM, SLOW].map(requestsTo);
    const answers = await sequential(cluster.client, 60);
    const served = tally(answers);
    const summary = `warm-up: ${describeTally(warmUp)}; measured: ${describeTally(answers)}; learned: ${await learned()}`;

    for (const a of [...warmUp, ...answers]) expect(a.text).not.toBe("");
    expect(new Set(answers.map((a) => a.node))).not.toContain("");
    // Every request was answered by the first node tried; the backends saw exactly those requests and no others.
    expect(
      answers.every((a) => a.attempts === 1),
      summary,
    ).toBe(true);
    expect([FAST, MEDIUM, SLOW].map((i) => requestsTo(i) - (before[i] ?? 0))).toEqual(
      [FAST, MEDIUM, SLOW].map((i) => served.get(id(i)) ?? 0),
    );
    expect(served.get(id(FAST)) ?? 0, summary).toBeGreaterThan(answers.length / 2);
    expect(served.get(id(FAST)) ?? 0, summary).toBeGreaterThan(served.get(id(SLOW)) ?? 0);
  });

  it("never gives the fastest node more concurrent requests than its capacity", async () => {
    const fast = cluster.backends[FAST];
    if (!fast) throw new Error("no fast backend");
    fast.resetPeak();
    const before = [FAST, MEDIUM, SLOW].map(requestsTo);
    // Every request of the burst asks for the fastest node first, so only its capacity can keep them off it.
    const burst = Array.from({ length: 8 }, (_, i) =>
      routedChat(cluster.client, {
        stream: true,
        maxTokens: LONG_ANSWER_TOKENS,
        prompt: `burst ${i}`,
        extra: { provider: { order: [id(FAST)] } },
      }),
    );
    const answers = await Promise.all(burst);
    const summary = `burst: ${describeTally(answers)}; fast backend peak ${fast.stats().peakConcurrent}`;

    for (const a of answers) expect(a.text.split(" ")).toHaveLength(LONG_ANSWER_TOKENS);
    expect(fast.stats().peakConcurrent, summary).toBeLessThanOrEqual(FAST_CAPACITY);
    // Not vacuous: the fastest node took part, and requests that asked for it went elsewhere only because it was full.
    expect(requestsTo(FAST) - (before[FAST] ?? 0), summary).toBeGreaterThan(0);
    expect(
      requestsTo(MEDIUM) + requestsTo(SLOW) - (before[MEDIUM] ?? 0) - (before[SLOW] ?? 0),
      summary,
    ).toBeGreaterThan(0);

    // The gateway counts a node's load as its own open requests plus the others' from the node's last heartbeat, which
    // can still report part of the burst for a heartbeat interval after it ended; later tests need the fastest node
    // free.
    await pollUntil(
      async () => ((await listNodes(cluster.gateway.url)).every((n) => n.in_flight === 0) ? true : undefined),
      {
        what: "heartbeats to report the burst over",
        timeoutMs: 15_000,
      },
    );
  });

  it("says which node answered, how many were tried and where the time went", async () => {
    for (const stream of [false, true]) {
      // Asked for the medium node first; right after the burst the router may still hold its capacity down (a 429
      // halves it for a while), and then another node answers at once: ask again until the medium one does.
      let started = Date.now();
      let a = await routedChat(cluster.client, { stream, extra: { provider: { order: [id(MEDIUM)] } } });
      let elapsed = Date.now() - started;
      for (let i = 0; i < 10 && a.node !== id(MEDIUM); i++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        started = Date.now();
        a = await routedChat(cluster.client, { stream, extra: { provider: { order: [id(MEDIUM)] } } });
        elapsed = Date.now() - started;
      }
      expect(a.node).toBe(id(MEDIUM));
      expect(a.attempts).toBe(1);
      expect([...a.timing.keys()]).toEqual(["gateway", "admit", "node"]);
      const gateway = a.timing.get("gateway") ?? -1;
      const node = a.timing.get("node") ?? -1;
      expect(gateway).toBeGreaterThanOrEqual(0);
      // Taking the node's slot from its admission cell is part of the gateway's own time.
      expect(a.timing.get("admit") ?? -1).toBeGreaterThanOrEqual(0);
      expect(a.timing.get("admit") ?? Infinity).toBeLessThanOrEqual(gateway);
      // The node cannot have answered before its backend's latency had passed; both fit in what the client waited.
      expect(node).toBeGreaterThanOrEqual(LATENCIES[MEDIUM] - 1);
      expect(gateway + node).toBeLessThanOrEqual(elapsed + 1);
    }
  });

  it("tries the node named in provider.order first", async () => {
    // "First" unless the router believes it full: the fast node's 429s in the burst above may still hold its learned
    // capacity down, or a heartbeat may still report the burst, for a few seconds. Then the next choice answers at
    // once.
    for (const target of [SLOW, MEDIUM, FAST]) {
      const seen: string[] = [];
      for (let i = 0; i < 10 && seen.at(-1) !== name(id(target)); i++) {
        const a = await routedChat(cluster.client, { extra: { provider: { order: [id(target)] } } });
        expect(a.attempts).toBe(1);
        seen.push(name(a.node));
        if (seen.at(-1) !== name(id(target))) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(seen.at(-1), seen.join(", ")).toBe(name(id(target)));
    }
  });

  it("uses only the nodes in provider.only", async () => {
    const answers: RoutedAnswer[] = [];
    for (let i = 0; i < 6; i++)
      answers.push(
        await routedChat(cluster.client, { stream: i % 2 === 0, extra: { provider: { only: [id(SLOW)] } } }),
      );
    expect(answers.map((a) => name(a.node))).toEqual(Array(6).fill("slow"));
  });

  it("never uses a node in provider.ignore", async () => {
    // The node the router currently favours, so that ignoring it changes where requests go.
    const recent = tally(await sequential(cluster.client, 10));
    const favourite = [...recent].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
    const answers: RoutedAnswer[] = [];
    for (let i = 0; i < 20; i++)
      answers.push(
        await routedChat(cluster.client, { stream: i % 2 === 0, extra: { provider: { ignore: [favourite] } } }),
      );
    expect(answers.filter((a) => a.node === favourite).map((a) => name(a.node))).toEqual([]);
    expect(answers.every((a) => a.attempts === 1)).toBe(true);
    // Ignoring all but the slowest leaves only the node the router least wants.
    const rest: RoutedAnswer[] = [];
    for (let i = 0; i < 4; i++)
      rest.push(
        await routedChat(cluster.client, {
          stream: i % 2 === 0,
          extra: { provider: { ignore: [id(FAST), id(MEDIUM)] } },
        }),
      );
    expect(rest.map((a) => name(a.node))).toEqual(Array(4).fill("slow"));
  });

  it("picks the lowest measured latency for provider.sort = latency", async () => {
    // Both candidates measured just now, so neither is judged by the optimistic prior of an unmeasured node.
    await routedChat(cluster.client, { extra: { provider: { only: [id(SLOW)] } } });
    await routedChat(cluster.client, { extra: { provider: { only: [id(MEDIUM)] } } });
    for (let i = 0; i < 5; i++) {
      const a = await routedChat(cluster.client, {
        extra: { provider: { only: [id(MEDIUM), id(SLOW)], sort: "latency" } },
      });
      expect(name(a.node)).toBe("medium");
    }
    const unrestricted: RoutedAnswer[] = [];
    for (let i = 0; i < 5; i++)
      unrestricted.push(await routedChat(cluster.client, { extra: { provider: { sort: "latency" } } }));
    expect(unrestricted.filter((a) => a.node === id(SLOW))).toEqual([]);
  });

  it("refuses contradictory controls with a 400 the SDK raises as BadRequestError", async () => {
    const err: unknown = await routedChat(cluster.client, {
      extra: { provider: { only: [id(FAST)], ignore: [id(FAST)] } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    const bad = err as APIError;
    expect(bad.status).toBe(400);
    expect(bad.code).toBe("invalid_routing_control");
    expect(bad.param).toBe("provider.ignore[0]");
    expect(bad.type).toBe("invalid_request_error");
  });

  it("never forwards provider or models to the node's backend, and forwards every other field", async () => {
    const seen = () => cluster.backends.flatMap((b) => b.stats().bodyKeysSeen);
    expect(seen()).not.toContain("provider");
    for (const stream of [false, true]) {
      const a = await routedChat(cluster.client, {
        stream,
        extra: {
          provider: { order: [id(MEDIUM)], sort: "latency" },
          models: ["sim-small"],
          seed: 7,
          user: "routing-e2e",
        },
      });
      expect(a.node).toBe(id(MEDIUM));
      const keys = cluster.backends[MEDIUM]?.stats().lastBodyKeys ?? [];
      expect(keys).toEqual(expect.arrayContaining(["model", "messages", "max_tokens", "seed", "user"]));
      expect(keys).not.toContain("provider");
      expect(keys).not.toContain("models");
    }
    expect(seen()).not.toContain("provider");
    expect(seen()).not.toContain("models");
  });

  it("answers every request when the fastest agent is killed mid-run", async () => {
    const fastAgent = cluster.agents[FAST];
    const fastBackend = cluster.backends[FAST];
    if (!fastAgent || !fastBackend) throw new Error("no fast node");
    const answers: RoutedAnswer[] = [];
    const errors: unknown[] = [];
    let killedAt: number | null = null;
    let sentAfterKill = 0;
    let stopped = false;
    const worker = async (w: number): Promise<void> => {
      // Half the workers prefer the fastest node outright, so it is sure to carry traffic when it dies, whatever the
      // router has learned so far; the others route freely.
      const extra = w % 2 === 0 ? { provider: { order: [id(FAST)] } } : {};
      for (let i = 0; !stopped && sentAfterKill < 40; i++) {
        const sentAt = Date.now();
        try {
          // Not streamed: a stream the node has started is cut off when the node dies (there is no failover after the
          // first byte), while a whole answer is read in full before the client sees anything.
          answers.push(await routedChat(cluster.client, { prompt: `worker ${w} request ${i}`, extra }));
        } catch (err) {
          errors.push(err);
        }
        if (killedAt !== null && sentAt > killedAt) sentAfterKill++;
      }
    };
    const kill = async (): Promise<void> => {
      try {
        // Mid-run: at a moment the fastest node's backend has a request open.
        await pollUntil(
          () => (fastBackend.stats().requests >= 5 && fastBackend.stats().active > 0 ? true : undefined),
          {
            what: "the fastest node to be serving a request",
            intervalMs: 1,
            timeoutMs: 20_000,
          },
        );
      } catch (err) {
        // Without a kill the workers would never stop on their own.
        stopped = true;
        throw err;
      }
      fastAgent.process.kill("SIGKILL");
      killedAt = Date.now();
      await fastAgent.process.exited;
    };
    await Promise.all([kill(), ...[1, 2, 3, 4].map(worker)]);
    const summary = `answers: ${describeTally(answers)}; attempts: ${answers.map((a) => a.attempts).join("")}`;

    expect(errors).toEqual([]);
    expect(answers.every((a) => a.text !== "")).toBe(true);
    // Not vacuous: the dead node was tried after the kill, and the gateway moved on to another one.
    expect(
      answers.some((a) => a.attempts >= 2),
      summary,
    ).toBe(true);
  });
});
