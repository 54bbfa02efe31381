// The node's HTTP face: accepts the three inference endpoints from the gateway only, then proxies to the upstream;
// also answers the gateway's proof-of-endpoint challenge.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ENDPOINT_PROOF_PATH } from "@meshgate/schemas";
import type { Logger } from "../log.js";
import { authenticate, type GatewayAuth } from "./authenticate.js";
import { answerChallenge, type EndpointProver } from "./endpoint-proof.js";
import { sendError } from "./openai-error.js";
import { BodyTooLargeError, MAX_BODY_BYTES, readBody } from "./read-body.js";
import type { UpstreamProxy } from "./upstream-proxy.js";

export const PROXIED_PATHS: ReadonlySet<string> = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]);

export interface AgentServerOptions {
  auth: GatewayAuth;
  proxy: UpstreamProxy;
  log: Logger;
  maxBodyBytes?: number;
  /** Without one, challenges are 404 (a server embedded in tests stands in for nodes it holds no keys of). */
  prover?: EndpointProver;
}

export interface AgentServer {
  server: Server;
  /** Requests accepted and not yet answered in full; reported in heartbeats. */
  inFlight(): number;
  /** Resolves once no request is in flight. */
  idle(): Promise<void>;
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const { auth, proxy, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];
  const release = (): void => {
    inFlight -= 1;
    if (inFlight === 0 && idleWaiters.length > 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    const isChallenge = path === ENDPOINT_PROOF_PATH && options.prover !== undefined;
    if (req.method !== "POST" || !(PROXIED_PATHS.has(path) || isChallenge)) {
      return sendError(res, 404, "not_found_error", "unknown_url", `Unknown request URL: ${req.method ?? "?"} ${path}.`);
    }
    inFlight += 1;
    res.once("close", release);
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) return void res.destroy();
      res.setHeader("connection", "close");
      return sendError(res, 413, "invalid_request_error", "request_too_large", `Request body too large: the limit is ${err.limit} bytes.`);
    }
    const failure = await authenticate(req, body, auth);
    if (failure) {
      log("refused request", { path, code: failure.code, from: req.socket.remoteAddress });
      return sendError(res, 401, "authentication_error", failure.code, `Request refused: ${failure.message}.`);
    }
    if (isChallenge && options.prover) {
      const answer = await answerChallenge(body, options.prover);
      if (!answer.ok) return sendError(res, answer.status, answer.status === 403 ? "permission_error" : "invalid_request_error", answer.code, answer.message);
      log("proved endpoint to the gateway", { url: options.prover.publicUrl });
      const text = JSON.stringify(answer.proof);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      return void res.end(text);
    }
    // The query is not covered by the signature, so it is not forwarded.
    proxy.forward(req, res, path, body);
  }

  const server = createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log("internal error", { error: err instanceof Error ? err.message : String(err) });
      sendError(res, 500, "api_error", "internal_error", "The node hit an internal error.");
    });
  });
  const idle = (): Promise<void> => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)));
  return { server, inFlight: () => inFlight, idle };
}
