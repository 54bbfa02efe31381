// Runs in Node before the Workers-runtime tests: starts the nodes the gateway under test dispatches to.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import {
  fromBase64,
  jwkThumbprint,
  newSeed,
  publicJwk,
  webCryptoSignerFromSeed,
  type GatewayKey,
} from "@meshgate/schemas";
import { startSimBackend } from "@meshgate/sim-backend";
import {
  createAgentServer,
  gatewayKeyVerifier,
  identityFromSecretKey,
  NonceWindow,
  ReceiptSigner,
  UpstreamProxy,
  type ReceiptIssuer,
} from "@meshgate/node-agent";
import { FLEET_MODELS, FLEET_PRICE, RESPONSES_LIAR_MODELS, RESPONSES_PASS_MODELS, TEST_BINDINGS } from "./bindings.js";
import { responsesLiar } from "./responses-liar.js";

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function fixedStatus(status: number): Server {
  return createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "application/json" });
      // A 204 may carry no body.
      res.end(
        status === 204
          ? undefined
          : JSON.stringify({ error: { message: `simulated ${status}`, type: "api_error", param: null, code: null } }),
      );
    });
  });
}

/** A real agent serving as one node, which signs its receipts with `issue` (see ReceiptSigner). */
function signingAgent(backend: { url: string }, signingKey: GatewayKey, receipts: ReceiptIssuer, responsesApi = false) {
  return createAgentServer({
    auth: {
      verify: gatewayKeyVerifier([signingKey]),
      nonces: new NonceWindow(),
      now: Date.now,
      servesNode: () => true,
    },
    proxy: new UpstreamProxy(backend.url, { onUpstreamError: () => {} }, { receipts }),
    log: () => {},
    capacity: 8,
    responsesApi,
  });
}

async function receiptSigner(seed: string, lie: boolean): Promise<ReceiptIssuer> {
  const identity = await identityFromSecretKey(fromBase64(seed) ?? new Uint8Array(32));
  const priced = ["chat-billing", "chat-liar", "chat-budget", ...RESPONSES_PASS_MODELS, ...RESPONSES_LIAR_MODELS];
  const prices = new Map(priced.map((m) => [m, FLEET_PRICE]));
  const honest = new ReceiptSigner({ identity: () => identity, prices });
  if (!lie) return honest;
  return {
    issue: (a) => honest.issue({ ...a, usage: { ...a.usage, completion_tokens: a.usage.completion_tokens + 1 } }),
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const backend = await startSimBackend({ models: FLEET_MODELS, log: () => {} });
  const { publicKey } = await webCryptoSignerFromSeed(TEST_BINDINGS.GATEWAY_SIGNING_KEY, (pk) => pk);
  const signingKey = {
    kid: await jwkThumbprint(publicKey),
    alg: "ed25519" as const,
    jwk: publicJwk(publicKey),
    status: "current" as const,
    not_after: null,
  };
  const agent = createAgentServer({
    // The fleet's agent stands in for every test node registered at its URL, so it serves any addressee.
    auth: {
      verify: gatewayKeyVerifier([signingKey]),
      nonces: new NonceWindow(),
      now: Date.now,
      servesNode: () => true,
    },
    proxy: new UpstreamProxy(backend.url, { onUpstreamError: () => {} }),
    log: () => {},
    // What health probes report; the test nodes' heartbeats claim their own capacities.
    capacity: 8,
  });
  const signingSeed = newSeed();
  const liarSeed = newSeed();
  const signing = signingAgent(backend, signingKey, await receiptSigner(signingSeed, false));
  const liar = signingAgent(backend, signingKey, await receiptSigner(liarSeed, true));
  const nativeBackend = await startSimBackend({ models: RESPONSES_PASS_MODELS, responsesApi: true, log: () => {} });
  const passingSeed = newSeed();
  const responsesLiarSeed = newSeed();
  const passing = signingAgent(nativeBackend, signingKey, await receiptSigner(passingSeed, false), true);
  const liarUpstream = responsesLiar();
  const liarUpstreamUrl = await listen(liarUpstream);
  const lyingAgent = signingAgent(
    { url: liarUpstreamUrl },
    signingKey,
    await receiptSigner(responsesLiarSeed, false),
    true,
  );
  const failing = fixedStatus(500);
  const busy = fixedStatus(429);
  const noContent = fixedStatus(204);
  const deadServer = createServer();
  const dead = await listen(deadServer);
  await close(deadServer);
  project.provide("fleet", {
    agent: await listen(agent.server),
    failing: await listen(failing),
    busy: await listen(busy),
    noContent: await listen(noContent),
    dead,
    signing: await listen(signing.server),
    signingSeed,
    liar: await listen(liar.server),
    liarSeed,
    passing: await listen(passing.server),
    passingSeed,
    nativeBackend: nativeBackend.url,
    responsesLiar: await listen(lyingAgent.server),
    responsesLiarSeed,
  });
  return async () => {
    await Promise.all([
      close(agent.server),
      close(signing.server),
      close(liar.server),
      close(failing),
      close(busy),
      close(noContent),
      close(passing.server),
      close(lyingAgent.server),
      close(liarUpstream),
      nativeBackend.close(),
      backend.close(),
    ]);
  };
}
