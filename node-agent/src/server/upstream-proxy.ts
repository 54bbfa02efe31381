// Forwards a verified request to the inference server and streams its answer back chunk by chunk, unbuffered.
// With a receipt issuer, every 200 answer to a request the gateway named (x-request-id) carries the node's signed
// receipt (see receipted-relay.ts, receipted-stream.ts), and such a stream can be stopped by the gateway (cancel()).
// Upstream connections are kept alive and reused: this sits on every request's hot path.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { CHAT_DIALECT, DISPATCH_NODE_HEADER, RESPONSES_DIALECT, type TokenCount } from "@meshgate/schemas";
import type { ReceiptIssuer } from "../receipts/receipt-signer.js";
import { estimatePromptTokens } from "../receipts/prompt-estimate.js";
import { requestModel } from "../receipts/request-model.js";
import { isEventStream, pickHeaders } from "./answer-headers.js";
import { InFlightStreams } from "./in-flight-streams.js";
import { RESPONSES_PATH } from "./responses-path.js";
import { sendError } from "./openai-error.js";
import { relayWholeAnswer } from "./receipted-relay.js";
import { relayStream, type StreamReceiptContext } from "./receipted-stream.js";

export interface ProxyHooks {
  /** The upstream could not be reached or broke mid-answer. */
  onUpstreamError(err: Error, answered: boolean): void;
  /** Signing a receipt failed: the answer went out without one. */
  onReceiptError?(err: unknown): void;
}

export interface ProxyOptions {
  /** Signs a receipt for each answer; without one, answers are relayed as they come and carry none. */
  receipts?: ReceiptIssuer | undefined;
  /** The largest whole (non-streamed) answer held for its receipt; see MAX_ANSWER_BYTES. */
  maxAnswerBytes?: number;
  /**
   * A receipt went out with its answer's last byte (handed to the socket). Only these are logged: a receipt signed for
   * an answer the gateway left before receiving is owed nothing, and must not read as a missing payment.
   */
  onReceiptDelivered?: ((receipt: string) => void) | undefined;
}

/** The request a receipt is for. */
interface AnsweredCall {
  requestId: string;
  body: Buffer;
  addressee: string | null;
}

/** A request sent upstream. */
interface ForwardedCall {
  requestId: string | null;
  path: string;
  body: Buffer;
  /** Destroys the upstream request: its server stops generating, and its failing is nobody's news any more. */
  stopUpstream(): void;
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
  private readonly streams = new InFlightStreams();

  /** `root` is the server root, e.g. http://127.0.0.1:11434; request paths (/v1/...) are appended to it. */
  constructor(
    root: string,
    private readonly hooks: ProxyHooks,
    private readonly options: ProxyOptions = {},
  ) {
    const url = new URL(root);
    this.prefix = url.pathname.replace(/\/+$/, "");
    const https = url.protocol === "https:";
    // Kept-alive sockets without Nagle, the most recently freed one reused first (the least likely to have been
    // closed by the upstream's idle timeout), no cap. All but keepAlive are Node 20's defaults, stated so they stay.
    const agentOptions = { keepAlive: true, noDelay: true, scheduling: "lifo" } as const;
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.request = https ? httpsRequest : httpRequest;
    this.protocol = url.protocol;
    this.hostname = url.hostname;
    this.port = url.port;
    this.host = url.host;
  }

  forward(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    // A flat name/value list is stored by node:http as given, which skips the per-header setHeader() bookkeeping
    // that an object costs (each value is still validated).
    const headers = [
      "host",
      this.host,
      "content-type",
      req.headers["content-type"] ?? "application/json",
      "content-length",
      String(body.length),
    ];
    const { accept } = req.headers;
    if (accept) headers.push("accept", accept);
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && header ? header : null;
    if (requestId) headers.push("x-request-id", requestId);
    const upstream = this.request({
      protocol: this.protocol,
      hostname: this.hostname,
      port: this.port,
      path: this.prefix + path,
      method: "POST",
      headers,
      agent: this.agent,
    });
    let stopped = false;
    const stopUpstream = (): void => {
      stopped = true;
      upstream.destroy();
    };
    upstream.on("response", (answer) => this.answer(answer, req, res, { requestId, path, body, stopUpstream }));
    upstream.on("error", (err) => {
      if (stopped) return;
      this.hooks.onUpstreamError(err, res.headersSent);
      if (res.headersSent) res.destroy();
      else sendError(res, 502, "api_error", "upstream_unreachable", "The node could not reach its inference server.");
    });
    // The client (the gateway) went away: stop generating tokens nobody will read.
    res.once("close", () => {
      if (!res.writableFinished) stopUpstream();
    });
    upstream.end(body);
  }

  /**
   * Stops the streamed answer to `requestId` being relayed now: its upstream request is destroyed and its stream ends
   * with the receipt of what was relayed. False when no such answer is being relayed (it ended, or it is not a stream).
   */
  cancel(requestId: string): boolean {
    return this.streams.stop(requestId);
  }

  close(): void {
    this.agent.destroy();
  }

  private answer(answer: IncomingMessage, req: IncomingMessage, res: ServerResponse, call: ForwardedCall): void {
    const { receipts } = this.options;
    const { requestId, body } = call;
    // Errors are passed on as they are, and a request the gateway did not name cannot be receipted.
    if (!receipts || answer.statusCode !== 200 || !requestId) {
      relay(answer, res);
      return;
    }
    const addressee = req.headers[DISPATCH_NODE_HEADER];
    const request = { requestId, body, addressee: typeof addressee === "string" ? addressee : null };
    const ctx: StreamReceiptContext = {
      issue: (usage, digest) => this.issue(receipts, request, usage, digest),
      onUpstreamError: (err) => this.hooks.onUpstreamError(err, true),
      delivered: (receipt) => this.options.onReceiptDelivered?.(receipt),
      stopUpstream: call.stopUpstream,
      estimatePromptTokens: () => estimatePromptTokens(body),
      // The Responses API's answer is metered by its own events, exactly as a chat answer by its chunks.
      dialect: call.path === RESPONSES_PATH ? RESPONSES_DIALECT : CHAT_DIALECT,
    };
    if (isEventStream(answer.headers)) this.streams.add(requestId, relayStream(answer, res, ctx), res);
    else relayWholeAnswer(answer, res, ctx, this.options.maxAnswerBytes).catch(() => res.destroy());
  }

  private async issue(
    receipts: ReceiptIssuer,
    request: AnsweredCall,
    usage: TokenCount,
    bodyDigest: string,
  ): Promise<string | null> {
    // The request body is parsed only now, after the upstream answered, off the path to the first token.
    const model = requestModel(request.body);
    if (model === null) return null;
    try {
      return await receipts.issue({
        requestId: request.requestId,
        model,
        usage,
        bodyDigest,
        addressee: request.addressee,
      });
    } catch (err) {
      this.hooks.onReceiptError?.(err);
      return null;
    }
  }
}

function relay(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, pickHeaders(answer.headers));
  // Event streams: send the status now, as the upstream did, rather than with the first token. The gateway times a
  // node's first byte by these headers, so holding them back to share a packet with the first token is not an option.
  if (isEventStream(answer.headers)) res.flushHeaders();
  answer.on("error", () => res.destroy());
  answer.once("close", () => {
    if (!answer.complete) res.destroy();
  });
  // pipe() writes each chunk to the socket as it arrives; there is no buffering or compression in between.
  answer.pipe(res);
}
