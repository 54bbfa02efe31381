// Forwards a verified request to the inference server and streams its answer back chunk by chunk, unbuffered.
// Upstream connections are kept alive and reused: this sits on every request's hot path.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { sendError } from "./openai-error.js";

/** Response headers worth passing on; hop-by-hop and server-identifying ones are not. */
const PASSED_HEADERS = ["content-type", "content-length", "content-encoding", "cache-control", "openai-processing-ms", "openai-version", "x-request-id"] as const;

export interface ProxyHooks {
  /** The upstream could not be reached or broke mid-answer. */
  onUpstreamError(err: Error, answered: boolean): void;
}

export class UpstreamProxy {
  private readonly url: URL;
  /** A path the upstream root already has (e.g. behind a reverse proxy), prepended to every request path. */
  private readonly prefix: string;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;

  /** `root` is the server root, e.g. http://127.0.0.1:11434; request paths (/v1/...) are appended to it. */
  constructor(root: string, private readonly hooks: ProxyHooks) {
    this.url = new URL(root);
    this.prefix = this.url.pathname.replace(/\/+$/, "");
    const https = this.url.protocol === "https:";
    this.agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.request = https ? httpsRequest : httpRequest;
  }

  forward(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const headers: OutgoingHttpHeaders = { "content-type": req.headers["content-type"] ?? "application/json", "content-length": body.length };
    if (req.headers.accept) headers["accept"] = req.headers.accept;
    if (req.headers["x-request-id"]) headers["x-request-id"] = req.headers["x-request-id"];
    const upstream = this.request({
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port,
      path: this.prefix + path,
      method: "POST",
      headers,
      agent: this.agent,
    });
    let clientGone = false;
    upstream.on("response", (answer) => this.relay(answer, res));
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

  private relay(answer: IncomingMessage, res: ServerResponse): void {
    res.writeHead(answer.statusCode ?? 502, pickHeaders(answer.headers));
    // Event streams: send the status now, as the upstream did, rather than with the first token.
    if (answer.headers["content-type"]?.startsWith("text/event-stream")) res.flushHeaders();
    answer.on("error", () => res.destroy());
    answer.once("close", () => {
      if (!answer.complete) res.destroy();
    });
    // pipe() writes each chunk to the socket as it arrives; there is no buffering or compression in between.
    answer.pipe(res);
  }

  close(): void {
    this.agent.destroy();
  }
}

function pickHeaders(from: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of PASSED_HEADERS) {
    const value = from[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
