// The gateway rotates its own key: restarted with a new GATEWAY_SIGNING_KEY and the old public key published as
// "previous" until a deadline, its running agents keep serving (they refetch the keys on the new keyid), accept
// either key during the overlap, and refuse the old one once its deadline has passed. An agent in session (no port)
// redials the restarted gateway and serves the requests it relays, signed with the new key, the same way.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { GatewayMetadataSchema, jwkThumbprint, newSeed, webCryptoSignerFromSeed } from "@meshgate/schemas";
import { jsonBody, signGatewayRequest } from "@meshgate/schemas/testing";
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { waitForNode } from "../gateway/nodes.js";
import { pollUntil, startNodeAgent, type NodeAgent } from "../processes/index.js";
import { CHAT_MODEL } from "./support/cluster.js";
import { routedChat } from "./support/routed.js";
import { quietSink } from "./support/quiet.js";
import { SETUP_TIMEOUT_MS } from "./support/timeouts.js";

/** How long the old key stays published after the restart. */
const OVERLAP_MS = 15_000;

describe("gateway key rotation", { timeout: 90_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "meshgate-e2e-gwkeys-"));
  const vars = generateDevVars();
  let gateway: Gateway;
  let backend: SimBackend;
  let agent: NodeAgent;
  let sessionAgent: NodeAgent;
  let apiKey: string;

  beforeAll(async () => {
    gateway = await startGateway({ vars, persistDir: join(scratch, "state"), sink: quietSink("gateway") });
    backend = await startSimBackend({ models: [CHAT_MODEL], log: quietSink("sim-backend") });
    agent = await startNodeAgent({
      name: "agent",
      gatewayUrl: gateway.url,
      upstreamUrl: backend.url,
      keyFile: join(scratch, "agent.key"),
      sink: quietSink("agent"),
    });
    sessionAgent = await startNodeAgent({
      name: "session-agent",
      gatewayUrl: gateway.url,
      upstreamUrl: backend.url,
      keyFile: join(scratch, "session-agent.key"),
      session: true,
      sink: quietSink("session-agent"),
    });
    await waitForNode(gateway.url, agent.nodeId);
    await waitForNode(gateway.url, sessionAgent.nodeId);
    apiKey = (await createApiKey(gateway.url, vars.ADMIN_TOKEN, "gateway-key-rotation")).key;
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await sessionAgent?.process.stop();
    await agent?.process.stop();
    await backend?.close();
    await gateway?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  /** A dispatch signed with `seed` as the gateway signs them, sent straight to the agent. */
  async function dispatchSignedWith(seed: string): Promise<Response> {
    const url = `${agent.url}/v1/chat/completions`;
    const body = jsonBody({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    const { signer } = await webCryptoSignerFromSeed(seed, jwkThumbprint);
    const headers = await signGatewayRequest({ url, body, signer, nodeId: agent.nodeId });
    return fetch(url, { method: "POST", headers, body });
  }

  it(
    "keeps agents serving across the rotation, accepts both keys during the overlap, then drops the " + "old one",
    async () => {
      const oldKey = await webCryptoSignerFromSeed(vars.GATEWAY_SIGNING_KEY, jwkThumbprint);
      const newSeedValue = newSeed();
      const newKey = await webCryptoSignerFromSeed(newSeedValue, jwkThumbprint);
      const port = gateway.port;
      await gateway.stop();
      const until = Date.now() + OVERLAP_MS;
      gateway = await startGateway({
        port,
        persistDir: join(scratch, "state"),
        sink: quietSink("gateway"),
        vars: {
          ...vars,
          GATEWAY_SIGNING_KEY: newSeedValue,
          GATEWAY_PREVIOUS_PUBLIC_KEY: oldKey.publicKey,
          GATEWAY_PREVIOUS_KEY_UNTIL: new Date(until).toISOString(),
        },
      });

      const published = GatewayMetadataSchema.parse(
        await (await fetch(`${gateway.url}/.well-known/meshgate.json`)).json(),
      );
      expect(published.keys.map((k) => [k.kid, k.status])).toEqual([
        [newKey.signer.keyId, "current"],
        [oldKey.signer.keyId, "previous"],
      ]);
      expect(published.keys[1]!.not_after).toBe(new Date(until).toISOString());

      // The gateway now signs with the new key; the agent learns it on the first such dispatch and serves it.
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
      const { response } = await pollUntil(
        () =>
          client.chat.completions
            .create({ model: CHAT_MODEL, messages: [{ role: "user", content: "hi" }] })
            .withResponse(),
        { what: "a chat answered after the rotation", timeoutMs: 20_000 },
      );
      expect(response.headers.get("x-meshgate-node")).toBe(agent.nodeId);
      await agent.process.waitForLine(
        new RegExp(`gateway keys updated keys=${newKey.signer.keyId},${oldKey.signer.keyId}`),
        5_000,
      );

      // The agent in session redialled the restarted gateway and serves what it relays, signed with the new key.
      const relayed = await pollUntil(
        () => routedChat(client, { extra: { provider: { only: [sessionAgent.nodeId] } } }),
        { what: "a chat answered through the session after the rotation", timeoutMs: 20_000 },
      );
      expect(relayed.node).toBe(sessionAgent.nodeId);
      await sessionAgent.process.waitForLine(
        new RegExp(`gateway keys updated keys=${newKey.signer.keyId},${oldKey.signer.keyId}`),
        5_000,
      );

      // During the overlap a dispatch signed with the old key (an isolate still on the old secret) is served too.
      expect(Date.now()).toBeLessThan(until);
      expect((await dispatchSignedWith(vars.GATEWAY_SIGNING_KEY)).status).toBe(200);

      // Past the deadline the old key is gone from the document, and the agent refuses it.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 500));
      const later = GatewayMetadataSchema.parse(await (await fetch(`${gateway.url}/.well-known/meshgate.json`)).json());
      expect(later.keys.map((k) => k.kid)).toEqual([newKey.signer.keyId]);
      const refused = await dispatchSignedWith(vars.GATEWAY_SIGNING_KEY);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unknown_key");
      expect((await dispatchSignedWith(newSeedValue)).status).toBe(200);
    },
  );
});
