// Runs in Node before the Workers-runtime tests: starts the nodes the gateway under test dispatches to.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { jwkThumbprint, publicJwk, webCryptoSignerFromSeed } from "@meshgate/schemas";
import { startSimBackend } from "@meshgate/sim-backend";
import { createAgentServer, gatewayKeyVerifier, NonceWindow, UpstreamProxy } from "node-agent";
import { FLEET_MODELS, TEST_BINDINGS } from "./bindings.js";

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
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
      res.end(status === 204 ? undefined : JSON.stringify({ error: { message: `simulated ${status}`, type: "api_error", param: null, code: null } }));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const backend = await startSimBackend({ models: FLEET_MODELS, log: () => {} });
  const { publicKey } = await webCryptoSignerFromSeed(TEST_BINDINGS.GATEWAY_SIGNING_KEY, (pk) => pk);
  const signingKey = { kid: await jwkThumbprint(publicKey), alg: "ed25519" as const, jwk: publicJwk(publicKey), status: "current" as const, not_after: null };
  const agent = createAgentServer({
    // The fleet's agent stands in for every test node registered at its URL, so it serves any addressee.
    auth: { verify: gatewayKeyVerifier([signingKey]), nonces: new NonceWindow(), now: Date.now, servesNode: () => true },
    proxy: new UpstreamProxy(backend.url, { onUpstreamError: () => {} }),
    log: () => {},
    // What health probes report; the test nodes' heartbeats claim their own capacities.
    capacity: 8,
  });
  const failing = fixedStatus(500);
  const busy = fixedStatus(429);
  const noContent = fixedStatus(204);
  const deadServer = createServer();
  const dead = await listen(deadServer);
  await close(deadServer);
  project.provide("fleet", { agent: await listen(agent.server), failing: await listen(failing), busy: await listen(busy), noContent: await listen(noContent), dead });
  return async () => {
    await Promise.all([close(agent.server), close(failing), close(busy), close(noContent), backend.close()]);
  };
}
