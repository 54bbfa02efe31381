// New identities are cheap (an id is a key thumbprint), so what they may cost the gateway is bounded where it is not
// cheap: registrations per source address (CF-Connecting-IP), counted before the endpoint challenge a registration
// triggers (a request the gateway makes to a URL of the registrant's choice), and identities proven per host and port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDPOINT_PROOF_PATH } from "@meshgate/schemas";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { listNodes, waitForNode } from "../gateway/nodes.js";
import { pollUntil } from "../processes/index.js";
import { endpointProof, newTestNode, send, signedHeartbeat, type TestNode } from "./support/heartbeat.js";
import { quietSink } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

/** Burst 5, then one an hour: a flood meets the limit at once. */
const REGISTRATION_BURST = 5;
const PER_ORIGIN = 2;
const MODELS = ["identity-probe-model"];

/**
 * Answers endpoint challenges at one origin for the nodes it is given (by the node id in the challenge); counts them.
 */
interface Responder {
  origin: string;
  challenges: Map<string, number>;
  total(): number;
  serve(node: TestNode, url: string): void;
  close(): Promise<void>;
}

async function startResponder(): Promise<Responder> {
  const challenges = new Map<string, number>();
  const served = new Map<string, { node: TestNode; url: string }>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let nodeId = "";
      try {
        nodeId = String((JSON.parse(body) as { node_id?: unknown }).node_id ?? "");
      } catch {
        // not a challenge
      }
      if (req.url === ENDPOINT_PROOF_PATH) challenges.set(nodeId, (challenges.get(nodeId) ?? 0) + 1);
      const entry = served.get(nodeId);
      void (entry ? endpointProof(entry.node, entry.url, body) : Promise.resolve(null)).then((proof) => {
        if (proof) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(proof));
        else res.writeHead(404).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    challenges,
    total: () => [...challenges.values()].reduce((a, b) => a + b, 0),
    serve: (node, url) => void served.set(node.id, { node, url }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Refusal {
  status: number;
  retryAfter: string | null;
  error: { message?: unknown; type?: unknown; code?: unknown; param?: unknown } | undefined;
}

describe("new identities", E2E, () => {
  let gateway: Gateway;
  const responders: Responder[] = [];

  /** One heartbeat from `ip` (as Cloudflare would set CF-Connecting-IP); the refusal, if any, as the client saw it. */
  const heartbeat = async (node: TestNode, url: string, seq: number, ip: string): Promise<Refusal> => {
    const signed = await signedHeartbeat(gateway.url, node, { url, models: MODELS, seq });
    signed.headers.set("cf-connecting-ip", ip);
    const response = await send(signed);
    const body = (await response.json()) as { error?: Refusal["error"] };
    return { status: response.status, retryAfter: response.headers.get("retry-after"), error: body.error };
  };

  beforeAll(async () => {
    const vars = {
      ...generateDevVars(),
      REGISTRATION_RATE_LIMIT: `1/${REGISTRATION_BURST}`,
      IDENTITIES_PER_ORIGIN: String(PER_ORIGIN),
    };
    gateway = await startGateway({ vars, sink: quietSink("gateway") });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const r of responders) await r.close();
    await gateway?.stop();
  }, SETUP_TIMEOUT_MS);

  it(`refuses a flood of new identities from one address with 429 after ${REGISTRATION_BURST}, before any challenge is sent`, async () => {
    const target = await startResponder();
    responders.push(target);
    const flooder = "198.51.100.7";
    const nodes = await Promise.all(Array.from({ length: 3 * REGISTRATION_BURST }, () => newTestNode()));
    const results: Refusal[] = [];
    for (const node of nodes) results.push(await heartbeat(node, `${target.origin}/`, 1, flooder));
    const statuses = results.map((r) => r.status);
    expect(statuses).toEqual([
      ...Array<number>(REGISTRATION_BURST).fill(200),
      ...Array<number>(2 * REGISTRATION_BURST).fill(429),
    ]);
    for (const refused of results.slice(REGISTRATION_BURST)) {
      expect(refused.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited", param: null });
      expect(String(refused.error?.message)).toMatch(/too many new nodes registered from this address/);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    // The accepted ones were challenged (the target answers 404), the refused ones never.
    await pollUntil(() => target.total() >= REGISTRATION_BURST || undefined, {
      what: "the accepted registrations' challenges",
      timeoutMs: 15_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(target.total()).toBe(REGISTRATION_BURST);
    for (const node of nodes.slice(REGISTRATION_BURST)) expect(target.challenges.get(node.id)).toBeUndefined();

    // Only registrations are limited, per address: a registered node heartbeats on, another address registers.
    expect((await heartbeat(nodes[0]!, `${target.origin}/`, 2, flooder)).status).toBe(200);
    expect((await heartbeat(await newTestNode(), `${target.origin}/`, 1, "198.51.100.8")).status).toBe(200);
  });

  it(`lets one host and port prove at most ${PER_ORIGIN} live identities; the next is refused before its challenge`, async () => {
    const server = await startResponder();
    const other = await startResponder();
    responders.push(server, other);
    const ip = "198.51.100.20";
    const nodes = await Promise.all([0, 1, 2].map(() => newTestNode()));
    const urlOf = (i: number): string => `${server.origin}/node-${i}`;
    for (const [i, node] of nodes.entries()) server.serve(node, urlOf(i));
    let seq = 1;
    for (const [i, node] of nodes.slice(0, PER_ORIGIN).entries()) {
      expect((await heartbeat(node, urlOf(i), seq, ip)).status).toBe(200);
      await waitForNode(gateway.url, node.id, 15_000);
    }
    // Both stay live (heartbeated within the last 10 s) as the third arrives.
    seq++;
    for (const [i, node] of nodes.slice(0, PER_ORIGIN).entries())
      expect((await heartbeat(node, urlOf(i), seq, ip)).status).toBe(200);
    const third = await heartbeat(nodes[2]!, urlOf(2), 1, ip);
    expect(third.status).toBe(409);
    expect(third.error).toMatchObject({ code: "too_many_identities" });
    expect(String(third.error?.message)).toContain(server.origin.replace("http://", ""));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(server.challenges.get(nodes[2]!.id)).toBeUndefined();
    expect((await listNodes(gateway.url)).map((n) => n.id)).not.toContain(nodes[2]!.id);

    // Another port is another server: agents on one machine each listen on their own.
    const elsewhere = `${other.origin}/node-2`;
    other.serve(nodes[2]!, elsewhere);
    expect((await heartbeat(nodes[2]!, elsewhere, 2, ip)).status).toBe(200);
    await waitForNode(gateway.url, nodes[2]!.id, 15_000);
  });
});
