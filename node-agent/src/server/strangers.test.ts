// What a stranger (anyone but the gateway) gets from a node's public URL: requests whose headers cannot be the
// gateway's are answered 401 before a byte of their body is read, their connection is closed, and they never count
// in flight; connections nobody authenticated are bounded in number, and never at the expense of the gateway's.
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  jwkThumbprint,
  newSeed,
  publicJwk,
  signRequest,
  utf8,
  webCryptoSignerFromSeed,
  type GatewayKey,
  type Signer,
} from "@meshgate/schemas";
import { signedRequest, type SignedRequest } from "../../test/gateway-request.js";
import { gatewayKeyVerifier } from "../gateway/gateway-verifier.js";
import { createAgentServer, type AgentServer } from "./agent-server.js";
import { NonceWindow } from "./nonce-window.js";
import { UpstreamProxy } from "./upstream-proxy.js";
import { listen, close } from "./test-listen.js";

const NODE = "N".repeat(43);
const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

let signer: Signer;
let key: GatewayKey;
let upstream: Server;
let upstreamUrl = "";
let upstreamHits = 0;
const servers: Server[] = [];

beforeAll(async () => {
  const gateway = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  signer = gateway.signer;
  key = { kid: signer.keyId, alg: "ed25519", jwk: publicJwk(gateway.publicKey), status: "current", not_after: null };
  upstream = createServer((req, res) => {
    upstreamHits++;
    req.resume();
    req.on("end", () =>
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ object: "chat.completion", choices: [] })),
    );
  });
  upstreamUrl = await listen(upstream);
});
afterAll(async () => {
  for (const server of servers) await close(server);
  await close(upstream);
});

async function startAgentServer(
  options: { maxStrangerConnections?: number } = {},
): Promise<{ agent: AgentServer; url: string }> {
  const agent = createAgentServer({
    auth: {
      verify: gatewayKeyVerifier([key]),
      nonces: new NonceWindow(),
      now: Date.now,
      servesNode: (id) => id === NODE,
    },
    proxy: new UpstreamProxy(upstreamUrl, { onUpstreamError: () => {} }),
    log: () => {},
    capacity: 4,
    ...options,
  });
  servers.push(agent.server);
  return { agent, url: await listen(agent.server) };
}

interface RawAnswer {
  status: number;
  code: string | null;
}

/**
 * Sends a request's head over a raw socket, declaring a body of `declared` bytes, and never sends the body. Resolves
 * with the answer once the agent has closed the connection: a server waiting for the body never resolves it.
 */
function headWithoutBody(request: SignedRequest, declared = 1000): Promise<RawAnswer> {
  const url = new URL(request.url);
  const fields = { ...request.init.headers, host: url.host, "content-length": String(declared) };
  const head = `POST ${url.pathname} HTTP/1.1\r\n${Object.entries(fields)
    .map(([name, value]) => `${name}: ${value}`)
    .join("\r\n")}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(head));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      let code: string | null = null;
      try {
        code = (JSON.parse(body) as { error: { code: string } }).error.code;
      } catch {
        // no JSON answer
      }
      resolve({ status, code });
    });
  });
}

/** A signed request whose signature covers only the profile's components, not the node it is addressed to. */
async function withoutNodeCoverage(url: string): Promise<SignedRequest> {
  const body = utf8(JSON.stringify(chat));
  const headers = new Headers({ "content-type": "application/json", "meshgate-node": NODE });
  await signRequest({ method: "POST", url, headers, body, signer, now: Date.now() });
  return { url, init: { method: "POST", headers: Object.fromEntries(headers), body } };
}

describe("requests that are not the gateway's", () => {
  let agent: AgentServer;
  let chatUrl = "";
  beforeAll(async () => {
    const started = await startAgentServer();
    agent = started.agent;
    chatUrl = `${started.url}/v1/chat/completions`;
  });

  const impostor = async (keyId: (publicKey: string) => string | Promise<string>) =>
    (await webCryptoSignerFromSeed(newSeed(), keyId)).signer;
  it.each([
    [
      "an unsigned request",
      async () => ({
        url: chatUrl,
        init: { method: "POST" as const, headers: { "content-type": "application/json" }, body: utf8("") },
      }),
      "missing_signature",
    ],
    [
      "a signature made with another key under the gateway's keyid",
      async () => signedRequest(await impostor(() => key.kid), chatUrl, chat, { nodeId: NODE }),
      "bad_signature",
    ],
    [
      "a signature by a key the gateway never published",
      async () => signedRequest(await impostor(jwkThumbprint), chatUrl, chat, { nodeId: NODE }),
      "unknown_key",
    ],
    [
      "an expired signature",
      async () => signedRequest(signer, chatUrl, chat, { nodeId: NODE, now: Date.now() - 10 * 60_000 }),
      "signature_expired",
    ],
    [
      "a signature that does not cover the node's id",
      async () => withoutNodeCoverage(chatUrl),
      "insufficient_coverage",
    ],
    [
      "a dispatch signed for another node",
      async () => signedRequest(signer, chatUrl, chat, { nodeId: "O".repeat(43) }),
      "wrong_node",
    ],
  ])(
    "answers %s 401 while its body is held back, closes the connection, and never counts it in flight",
    async (_name, make, code) => {
      const hits = upstreamHits;
      const answers = await Promise.all(Array.from({ length: 8 }, async () => headWithoutBody(await make())));
      expect(answers).toEqual(Array(8).fill({ status: 401, code }));
      expect(agent.inFlight()).toBe(0);
      expect(upstreamHits).toBe(hits);
    },
  );

  it("answers a replayed signature 401 from its headers alone", async () => {
    const request = await signedRequest(signer, chatUrl, chat, { nodeId: NODE });
    expect((await fetch(request.url, request.init)).status).toBe(200);
    expect(await headWithoutBody(request)).toEqual({ status: 401, code: "replayed_nonce" });
  });

  it(
    "reads the body of a request whose headers are the gateway's, and checks it against the signed " + "digest",
    async () => {
      const good = await signedRequest(signer, chatUrl, chat, { nodeId: NODE });
      expect((await fetch(good.url, good.init)).status).toBe(200);
      const tampered = await signedRequest(signer, chatUrl, chat, {
        nodeId: NODE,
        sentBody: utf8(JSON.stringify({ ...chat, max_tokens: 9 })),
      });
      const refused = await fetch(tampered.url, tampered.init);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ error: { code: "bad_digest" } });
    },
  );
});

describe("connections nobody authenticated", () => {
  /** Opens a connection that sends nothing; resolves once connected. */
  const idle = (url: string): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
      socket.on("error", reject);
    });
  const closed = (socket: Socket): Promise<void> =>
    new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));

  it("are bounded: past the bound the oldest is dropped, never the gateway's kept-alive connection", async () => {
    const { url } = await startAgentServer({ maxStrangerConnections: 3 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const dispatch = async (): Promise<{ status: number; reused: boolean }> => {
      const request = await signedRequest(signer, `${url}/v1/chat/completions`, chat, { nodeId: NODE });
      const target = new URL(request.url);
      const headers = { ...request.init.headers, "content-length": String(request.init.body.length) };
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: "POST",
            headers,
            agent: keepAlive,
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          },
        );
        req.on("error", reject);
        req.end(request.init.body);
      });
    };
    try {
      expect(await dispatch()).toEqual({ status: 200, reused: false });
      const strangers: Socket[] = [];
      for (let i = 0; i < 6; i++) strangers.push(await idle(url));
      // The three oldest were dropped for the three newest; the gateway's connection stayed and serves again.
      await Promise.all(strangers.slice(0, 3).map(closed));
      expect(await dispatch()).toEqual({ status: 200, reused: true });
      for (const socket of strangers) socket.destroy();
    } finally {
      keepAlive.destroy();
    }
  });
});
