// The node's HTTP face: accepts the three inference endpoints from the gateway only, then proxies to the upstream;
// also answers the gateway's proof-of-endpoint challenge, reachability probes and requests to stop an answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { CANCEL_PATH, ENDPOINT_PROOF_PATH, HEALTH_PATH } from "@meshgate/schemas";
import type { Logger } from "../log.js";
import { authenticateHeaders, checkBody, type AuthFailure, type GatewayAuth } from "./authenticate.js";
import { answerCancel, MAX_CANCEL_BODY_BYTES } from "./cancel.js";
import { answerChallenge, type EndpointProver } from "./endpoint-proof.js";
import { MAX_HEALTH_BODY_BYTES, sendHealth } from "./health.js";
import { sendError } from "./openai-error.js";
import { BodyTooLargeError, MAX_BODY_BYTES, readBody } from "./read-body.js";
import { StrangerConnections } from "./stranger-connections.js";
import { RESPONSES_PATH } from "./responses-path.js";
import type { UpstreamProxy } from "./upstream-proxy.js";

export const PROXIED_PATHS: ReadonlySet<string> = new Set([
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
]);

// Node's own limits, short for strangers, none on answers. The gateway sends each request whole at once: its headers
// in one packet, its body (≤ 8 MiB) right after. A stranger's body is never read (its headers are refused first),
// so only headers that never end and bodies of signed requests need a deadline. Neither bounds how long an answer
// takes: a streamed answer may last minutes.
/** Whole headers, from the connection's first byte (or from a kept-alive connection's next request). */
export const HEADERS_TIMEOUT_MS = 5_000;
/** The whole request, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often Node enforces the two above (its default, 30 s, would let a socket outlive them by that much). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
const SERVER_OPTIONS = {
  noDelay: true,
  keepAliveTimeout: 30_000,
  headersTimeout: HEADERS_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
} as const;
/** Connections not yet used by the gateway, beyond the node's capacity (the gateway may open that many at once). */
export const STRANGER_CONNECTIONS_OVER_CAPACITY = 256;

export interface AgentServerOptions {
  auth: GatewayAuth;
  proxy: UpstreamProxy;
  log: Logger;
  /** Concurrent requests this node accepts, as its heartbeats say; reported in answers to health probes. */
  capacity: number;
  maxBodyBytes?: number;
  /** Connections not yet used by the gateway kept at once; capacity + STRANGER_CONNECTIONS_OVER_CAPACITY by default. */
  maxStrangerConnections?: number;
  /** Without one, challenges are 404 (a server embedded in tests stands in for nodes it holds no keys of). */
  prover?: EndpointProver;
  /** The upstream serves POST /v1/responses (the node advertises it): that path is proxied too. */
  responsesApi?: boolean;
}

export interface AgentServer {
  server: Server;
  /** Requests accepted and not yet answered in full; reported in heartbeats. */
  inFlight(): number;
  /** Resolves once no request is in flight. */
  idle(): Promise<void>;
}

/** What the gateway may ask of a node: an inference to proxy, an endpoint challenge, a health probe, a cancel. */
type Endpoint = "inference" | "challenge" | "health" | "cancel";

function endpointOf(
  method: string | undefined,
  path: string,
  canProve: boolean,
  responsesApi: boolean,
): Endpoint | null {
  if (method !== "POST") return null;
  if (PROXIED_PATHS.has(path) || (responsesApi && path === RESPONSES_PATH)) return "inference";
  if (path === ENDPOINT_PROOF_PATH && canProve) return "challenge";
  if (path === HEALTH_PATH) return "health";
  if (path === CANCEL_PATH) return "cancel";
  return null;
}

function pathOf(url: string | undefined): string {
  const target = url ?? "/";
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}

/**
 * The gateway's requests this node holds: accepted and not yet answered in full (reported in heartbeats), and of
 * those, inferences being proxied now (what the declared capacity bounds).
 */
class RequestLoad {
  inFlight = 0;
  serving = 0;
  private idleWaiters: (() => void)[] = [];

  /** Counts the request until its response closes. */
  hold(res: ServerResponse): void {
    this.inFlight += 1;
    res.once("close", () => this.release());
  }

  /** Counts the inference as served until its response closes. */
  serve(res: ServerResponse): void {
    this.serving += 1;
    res.once("close", () => {
      this.serving -= 1;
    });
  }

  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    this.inFlight -= 1;
    if (this.inFlight > 0) return;
    for (const resolve of this.idleWaiters) resolve();
    this.idleWaiters = [];
  }
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const load = new RequestLoad();
  const strangers = new StrangerConnections<Socket>(
    options.maxStrangerConnections ?? options.capacity + STRANGER_CONNECTIONS_OVER_CAPACITY,
  );
  const bodyLimits: Record<Endpoint, number> = {
    inference: options.maxBodyBytes ?? MAX_BODY_BYTES,
    challenge: options.maxBodyBytes ?? MAX_BODY_BYTES,
    health: MAX_HEALTH_BODY_BYTES,
    cancel: MAX_CANCEL_BODY_BYTES,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    const endpoint = endpointOf(req.method, path, options.prover !== undefined, options.responsesApi === true);
    if (!endpoint) return refuseUnknown(req, res, path);
    const body = await acceptGatewayRequest(req, res, path, bodyLimits[endpoint], options, strangers);
    // Gone meanwhile: its "close" has fired or is about to, and nothing is left to serve.
    if (!body || req.socket.destroyed) return;
    // Only the gateway's requests are load: a stranger's never reach this line. A probe measures the node's load;
    // counted, it would show up in the heartbeats as load itself. A cancel ends load, it adds none.
    if (endpoint === "health") return sendHealth(req, res, { inFlight: load.inFlight, capacity: options.capacity });
    if (endpoint === "cancel") return answerCancel(body, res, options.proxy, options.log);
    load.hold(res);
    if (endpoint === "challenge" && options.prover) return proveEndpoint(body, res, options.prover, options.log);
    serveInference(req, res, path, body, options, load);
  }

  const server = createServer(SERVER_OPTIONS, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log("internal error", { error: err instanceof Error ? err.message : String(err) });
      sendError(res, 500, "api_error", "internal_error", "The node hit an internal error.");
    });
  });
  server.on("connection", (socket: Socket) => strangers.admit(socket));
  return { server, inFlight: () => load.inFlight, idle: () => load.idle() };
}

/** Not a path the gateway sends (it sends only the endpoints above): nothing more is read from this connection. */
function refuseUnknown(req: IncomingMessage, res: ServerResponse, path: string): void {
  res.setHeader("connection", "close");
  sendError(res, 404, "not_found_error", "unknown_url", `Unknown request URL: ${req.method ?? "?"} ${path}.`);
}

/** Answers a request that is not the gateway's, and closes its connection: nothing more it sends is read. */
function refuse(req: IncomingMessage, res: ServerResponse, path: string, failure: AuthFailure, log: Logger): void {
  log("refused request", { path, code: failure.code, from: req.socket.remoteAddress });
  res.setHeader("connection", "close");
  sendError(res, 401, "authentication_error", failure.code, `Request refused: ${failure.message}.`);
}

/**
 * The body of a request the gateway signed for this node; null once the request was refused (answered or dropped).
 * The signature is checked on the headers before a byte of the body is read: a stranger is answered 401 at once,
 * whatever body it holds back. The body is read only then, bounded, and checked against the signed digest.
 */
async function acceptGatewayRequest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  limit: number,
  options: AgentServerOptions,
  strangers: StrangerConnections<Socket>,
): Promise<Buffer | null> {
  const signed = await authenticateHeaders(req, options.auth);
  if (!("contentDigest" in signed)) {
    refuse(req, res, path, signed, options.log);
    return null;
  }
  strangers.trust(req.socket);
  let body: Buffer;
  try {
    body = await readBody(req, limit);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) {
      res.destroy();
      return null;
    }
    res.setHeader("connection", "close");
    const message = `Request body too large: the limit is ${err.limit} bytes.`;
    sendError(res, 413, "invalid_request_error", "request_too_large", message);
    return null;
  }
  const failure = await checkBody(signed, body);
  if (failure) {
    refuse(req, res, path, failure, options.log);
    return null;
  }
  return body;
}

async function proveEndpoint(body: Buffer, res: ServerResponse, prover: EndpointProver, log: Logger): Promise<void> {
  const answer = await answerChallenge(body, prover);
  if (!answer.ok) {
    const type = answer.status === 403 ? "permission_error" : "invalid_request_error";
    sendError(res, answer.status, type, answer.code, answer.message);
    return;
  }
  log("proved endpoint to the gateway", { url: prover.publicUrl });
  const text = JSON.stringify(answer.proof);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The declared capacity is a promise to the gateway and a guard for the backend: past it, say so at once (the
 * gateway learns a lower capacity from the 429 and tries another node) rather than queue behind the backend.
 */
function serveInference(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  body: Buffer,
  options: AgentServerOptions,
  load: RequestLoad,
): void {
  if (load.serving >= options.capacity) {
    options.log("refused request over capacity", { path, capacity: options.capacity });
    res.setHeader("retry-after", "1");
    const message = `The node is serving its capacity of ${options.capacity} requests.`;
    sendError(res, 429, "rate_limit_error", "node_at_capacity", message);
    return;
  }
  load.serve(res);
  // The query is not covered by the signature, so it is not forwarded.
  options.proxy.forward(req, res, path, body);
}
