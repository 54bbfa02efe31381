import { describe, expect, it } from "vitest";
import {
  DISPATCH_NODE_HEADER,
  HEALTH_PATH,
  jwkThumbprint,
  newSeed,
  webCryptoSignerFromSeed,
  type Signer,
} from "@meshgate/schemas";
import { probeNode, probeNodes, type ProbeTarget } from "./health-probe.js";

const NODE = "N".repeat(43);
const target: ProbeTarget = { id: NODE, url: "https://node.example:8790/some/path" };

async function gatewaySigner(): Promise<Signer> {
  return (await webCryptoSignerFromSeed(newSeed(), jwkThumbprint)).signer;
}

const healthy = (nodeId = NODE) => Response.json({ object: "node.health", node_id: nodeId, in_flight: 2, capacity: 8 });

/** A node answering with `answer()`; records what the gateway sent. */
function fakeNode(answer: (request: Request) => Promise<Response> | Response) {
  const seen: Request[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request.clone());
    return answer(request);
  }) as typeof fetch;
  return { fetcher, seen };
}

/** A clock that moves only when told, so round trips are exact. */
function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number): void => {
      t += ms;
    },
  };
}

describe("probeNode", () => {
  it("POSTs a signed, node-addressed empty body to the URL's origin, no redirects, and times the answer", async () => {
    const signer = await gatewaySigner();
    const time = clock();
    const { fetcher, seen } = fakeNode(() => {
      time.advance(42);
      return healthy();
    });
    expect(await probeNode(target, { signer, now: time.now, fetcher })).toEqual({
      nodeId: NODE,
      reachable: true,
      rttMs: 42,
      at: 1_000_000,
    });
    const sent = seen[0]!;
    expect(sent.method).toBe("POST");
    expect(sent.url).toBe(`https://node.example:8790${HEALTH_PATH}`);
    expect(sent.redirect).toBe("manual");
    expect(sent.headers.get(DISPATCH_NODE_HEADER)).toBe(NODE);
    expect(sent.headers.get("signature-input")).toContain(`"${DISPATCH_NODE_HEADER}"`);
    expect(sent.headers.get("signature-input")).toContain(`keyid="${signer.keyId}"`);
    expect(sent.headers.get("content-digest")).toMatch(/^sha-256=:/);
    expect(await sent.text()).toBe("{}");
  });

  it.each([
    ["an answer for another node", () => healthy("O".repeat(43))],
    ["a redirect", () => new Response(null, { status: 302, headers: { location: "http://127.0.0.1/" } })],
    ["a refusal", () => Response.json({ error: { code: "missing_signature" } }, { status: 401 })],
    [
      "a server error, even with a health answer",
      () => Response.json({ object: "node.health", node_id: NODE, in_flight: 0, capacity: 1 }, { status: 500 }),
    ],
    ["a body that is not JSON", () => new Response("hello")],
    ["JSON that is not a health answer", () => Response.json({ object: "node.health", node_id: NODE })],
    ["an empty body", () => new Response(null, { status: 200 })],
    [
      "a body over 4 KiB",
      () => Response.json({ object: "node.health", node_id: NODE, in_flight: 0, capacity: 1, pad: "x".repeat(5000) }),
    ],
    ["an endless body", () => new Response(new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(1024)) }))],
  ])("counts %s as unreachable", async (_name, answer) => {
    const { fetcher } = fakeNode(answer);
    expect(await probeNode(target, { signer: await gatewaySigner(), now: () => 5, fetcher })).toEqual({
      nodeId: NODE,
      reachable: false,
      rttMs: null,
      at: 5,
    });
  });

  it("counts a refused connection as unreachable", async () => {
    const fetcher = (() => Promise.reject(new Error("connection refused"))) as typeof fetch;
    expect(await probeNode(target, { signer: await gatewaySigner(), now: () => 5, fetcher })).toMatchObject({
      reachable: false,
      rttMs: null,
    });
  });

  it("gives up on a node that does not answer, or trickles its answer, within the timeout", async () => {
    const signer = await gatewaySigner();
    // Never answers, but honours the abort signal like the runtime's fetch.
    const silent = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))),
      )) as typeof fetch;
    // Sends its headers, then nothing more: the body never ends.
    const trickling = (() =>
      Promise.resolve(
        new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"object":')) })),
      )) as typeof fetch;
    for (const fetcher of [silent, trickling]) {
      const started = Date.now();
      expect(await probeNode(target, { signer, now: Date.now, fetcher, timeoutMs: 50 })).toMatchObject({
        reachable: false,
        rttMs: null,
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it("counts a URL it cannot parse as unreachable without calling anything", async () => {
    const { fetcher, seen } = fakeNode(() => healthy());
    expect(
      await probeNode({ id: NODE, url: "not a url" }, { signer: await gatewaySigner(), now: () => 5, fetcher }),
    ).toMatchObject({ reachable: false });
    expect(seen).toHaveLength(0);
  });
});

describe("probeNodes", () => {
  const targets = Array.from(
    { length: 20 },
    (_, i): ProbeTarget => ({ id: String(i).padStart(43, "A"), url: `https://n${i}.example/` }),
  );

  it("probes every target, at most `concurrency` at a time", async () => {
    let open = 0;
    let peak = 0;
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      open++;
      peak = Math.max(peak, open);
      await new Promise((r) => setTimeout(r, 5));
      open--;
      return healthy(new Headers(init?.headers).get(DISPATCH_NODE_HEADER) ?? String(input));
    }) as typeof fetch;
    const results = await probeNodes(targets, {
      signer: await gatewaySigner(),
      now: Date.now,
      fetcher,
      concurrency: 4,
    });
    expect(results.map((r) => r.nodeId).sort()).toEqual(targets.map((t) => t.id).sort());
    expect(results.every((r) => r.reachable)).toBe(true);
    expect(peak).toBe(4);
  });

  it("starts no probe once `startBy` has passed, leaving the rest for the next run", async () => {
    const time = clock();
    const { fetcher } = fakeNode((req) => {
      time.advance(100);
      return healthy(req.headers.get(DISPATCH_NODE_HEADER)!);
    });
    const results = await probeNodes(targets, {
      signer: await gatewaySigner(),
      now: time.now,
      fetcher,
      concurrency: 1,
      startBy: time.now() + 250,
    });
    // Probes start at +0, +100 and +200; at +300 the budget is spent.
    expect(results.map((r) => r.nodeId)).toEqual(targets.slice(0, 3).map((t) => t.id));
  });
});
