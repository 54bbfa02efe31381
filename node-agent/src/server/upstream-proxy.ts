// Forwards a verified request to the inference server and streams its answer back chunk by chunk, unbuffered.
// Upstream connections are kept alive and reused: this sits on every request's hot path.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { sendError } from "./openai-error.js";

/** Response headers worth passing on; hop-by-hop and server-identifying ones are not. */
const PASSED_HEADERS = ["content-type", "content-length", "content-encoding", "cache-control", "openai-processing-ms", "openai-version", "x-request-id"] as const;

export interface ProxyHooks {
  /** The upstream could not be reached or broke mid-answer. */
  onUpstreamError(err: Error, answered: boolean): void;
}

export class UpstreamProxy {
  /** A path the upstream root already has (e.g. behind a reverse proxy), prepended to every request path. */
  private readonly prefix: string;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly protocol: string;
  private readonly hostname: string;
  private readonly port: string;
  /** The Host header, formatted once: with headers given as a list, node:http does not add it. */
  private readonly host: string;

  /** `root` is the server root, e.g. http://127.0.0.1:11434; request paths (/v1/...) are appended to it. */
  constructor(root: string, private readonly hooks: ProxyHooks) {
    const url = new URL(root);
    this.prefix = url.pathname.replace(/\/+$/, "");
    const https = url.protocol === "https:";
    // Kept-alive sockets without Nagle, the most recently freed one reused first (the least likely to have been
    // closed by the upstream's idle timeout), no cap. All but keepAlive are Node 20's defaults, stated so they stay.
    const options = { keepAlive: true, noDelay: true, scheduling: "lifo" } as const;
    this.agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.request = https ? httpsRequest : httpRequest;
    this.protocol = url.protocol;
    this.hostname = url.hostname;
    this.port = url.port;
    this.host = url.host;
  }

  forward(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    // A flat name/value list is stored by node:http as given, which skips the per-header setHeader() bookkeeping
    // that an object costs (each value is still validated).
    const headers = ["host", this.host, "content-type", req.headers["content-type"] ?? "application/json", "content-length", String(body.length)];
    const { accept } = req.headers;
    if (accept) headers.push("accept", accept);
    const requestId = req.headers["x-request-id"];
    if (typeof requestId === "string" && requestId) headers.push("x-request-id", requestId);
    const upstream = this.request({
      protocol: this.protocol,
      hostname: this.hostname,
      port: this.port,
      path: this.prefix + path,
      method: "POST",
      headers,
      agent: this.agent,
    });
    let clientGone = false;
    upstream.on("response", (answer) => relay(answer, res));
    upstream.on("error", (err) => {
      if (clientGone) return;
      this.hooks.onUpstreamError(err, res.headersSent);
      if (res.headersSent) res.destroy();
      else sendError(res, 502, "api_error", "upstream_unreachable", "The node could not reach its inference server.");
    });
    // The client (the gateway) went away: stop generating tokens nobody will read.
    res.once("close", () => {
      if (res.writableFinished) return;
      clientGone = true;
      upstream.destroy();
    });
    upstream.end(body);
  }

  close(): void {
    this.agent.destroy();
  }
}

function relay(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, pickHeaders(answer.headers));
  // Event streams: send the status now, as the upstream did, rather than with the first token. The gateway times a
  // node's first byte by these headers, so holding them back to share a packet with the first token is not an option.
  if (answer.headers["content-type"]?.startsWith("text/event-stream")) res.flushHeaders();
  answer.on("error", () => res.destroy());
  answer.once("close", () => {
    if (!answer.complete) res.destroy();
  });
  // pipe() writes each chunk to the socket as it arrives; there is no buffering or compression in between.
  answer.pipe(res);
}

function pickHeaders(from: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of PASSED_HEADERS) {
    const value = from[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
