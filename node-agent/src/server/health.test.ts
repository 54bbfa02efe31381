import { request as httpRequest, createServer, type ClientRequest, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  HEALTH_PATH,
  HealthAnswerSchema,
  jwkThumbprint,
  newSeed,
  publicJwk,
  webCryptoSignerFromSeed,
  type Signer,
} from "@meshgate/schemas";
import { send, signedRequest, type SignedRequest } from "../../test/gateway-request.js";
import { gatewayKeyVerifier } from "../gateway/gateway-verifier.js";
import { createAgentServer, type AgentServer } from "./agent-server.js";
import { NonceWindow } from "./nonce-window.js";
import { UpstreamProxy } from "./upstream-proxy.js";
import { listen, close } from "./test-listen.js";

const NODE = "N".repeat(43);
const CAPACITY = 3;

let signer: Signer;
let agent: AgentServer;
let agentUrl = "";
let upstream: Server;
let upstreamHits = 0;
/** Upstream answers held back until the test lets them go. */
const heldAnswers: ServerResponse[] = [];

beforeAll(async () => {
  const gateway = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  signer = gateway.signer;
  upstream = createServer((req, res) => {
    upstreamHits++;
    req.resume();
    heldAnswers.push(res);
  });
  const upstreamUrl = await listen(upstream);
  const key = {
    kid: signer.keyId,
    alg: "ed25519" as const,
    jwk: publicJwk(gateway.publicKey),
    status: "current" as const,
    not_after: null,
  };
  agent = createAgentServer({
    auth: {
      verify: gatewayKeyVerifier([key]),
      nonces: new NonceWindow(),
      now: Date.now,
      servesNode: (id) => id === NODE,
    },
    proxy: new UpstreamProxy(upstreamUrl, { onUpstreamError: () => {} }),
    log: () => {},
    capacity: CAPACITY,
  });
  agentUrl = await listen(agent.server);
});
afterAll(async () => {
  for (const res of heldAnswers) res.destroy();
  await close(agent.server);
  await close(upstream);
});

const probe = (nodeId = NODE): Promise<SignedRequest> =>
  signedRequest(signer, `${agentUrl}${HEALTH_PATH}`, {}, { nodeId });

/**
 * Sends all but the last byte of a signed request, so the agent holds it open reading the body; `finish` sends the
 * rest.
 */
async function heldOpen(request: SignedRequest): Promise<{ finish: () => Promise<number> }> {
  const arrived = new Promise<void>((resolve) => agent.server.once("request", () => resolve()));
  const { body } = request.init;
  const url = new URL(request.url);
  let req: ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: { ...request.init.headers, "content-length": String(body.length) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.write(body.subarray(0, body.length - 1));
  });
  await arrived;
  return {
    finish: () => {
      req.end(body.subarray(body.length - 1));
      return status;
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error("condition never held");
}

describe("health probes", () => {
  it("answers a probe the gateway signed for this node with its load, without touching the upstream", async () => {
    const res = await send(await probe());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const answer = HealthAnswerSchema.parse(await res.json());
    expect(answer).toEqual({ object: "node.health", node_id: NODE, in_flight: 0, capacity: CAPACITY });
    expect(upstreamHits).toBe(0);
  });

  it("counts dispatches in flight but never probes, neither the one answered nor others open", async () => {
    const chat = await signedRequest(
      signer,
      `${agentUrl}/v1/chat/completions`,
      { model: "m", messages: [] },
      { nodeId: NODE },
    );
    const dispatched = send(chat);
    await until(() => upstreamHits === 1);
    expect(agent.inFlight()).toBe(1);

    // A probe the agent is still reading does not show up in the count the heartbeats report...
    const pending = await heldOpen(await probe());
    expect(agent.inFlight()).toBe(1);
    // ...nor in another probe's answer.
    const answer = HealthAnswerSchema.parse(await (await send(await probe())).json());
    expect(answer.in_flight).toBe(1);
    expect(await pending.finish()).toBe(200);

    heldAnswers.shift()!.end(JSON.stringify({ object: "chat.completion", choices: [] }));
    expect((await dispatched).status).toBe(200);
    await until(() => agent.inFlight() === 0);
    expect(upstreamHits).toBe(1);
  });

  it.each([
    [
      "an unsigned probe",
      async () => fetch(`${agentUrl}${HEALTH_PATH}`, { method: "POST", body: "{}" }),
      "missing_signature",
    ],
    ["a probe signed for another node", async () => send(await probe("O".repeat(43))), "wrong_node"],
    [
      "a stale probe",
      async () =>
        send(
          await signedRequest(signer, `${agentUrl}${HEALTH_PATH}`, {}, { nodeId: NODE, now: Date.now() - 10 * 60_000 }),
        ),
      "signature_expired",
    ],
  ])("refuses %s with 401, like a dispatch", async (_name, sendIt, code) => {
    const res = await sendIt();
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: "authentication_error", param: null, code },
    });
  });

  it("refuses a replayed probe", async () => {
    const request = await probe();
    expect((await send(request)).status).toBe(200);
    const again = await send(request);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: { code: "replayed_nonce" } });
  });

  it("refuses a body far larger than a probe's with 413, and anything but POST with 404", async () => {
    const hits = upstreamHits;
    const big = await signedRequest(signer, `${agentUrl}${HEALTH_PATH}`, { pad: "x".repeat(2048) }, { nodeId: NODE });
    expect((await send(big)).status).toBe(413);
    const get = await fetch(`${agentUrl}${HEALTH_PATH}`);
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ error: { code: "unknown_url" } });
    expect(upstreamHits).toBe(hits);
  });
});
