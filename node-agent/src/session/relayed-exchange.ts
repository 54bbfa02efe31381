// One request relayed down the session, served by the agent's own HTTP server over an in-memory connection: Node's
// HTTP client writes the request, the server checks and answers it exactly as it would a request the gateway sent
// over TCP (signature, nonce, addressee, capacity, proxying, receipts), and the answer goes back to the gateway as
// RESPONSE, RESPONSE_BODY… and RESPONSE_END frames, or RESPONSE_ERROR when it breaks off.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import {
  encodeFrame,
  FrameType,
  MAX_HEAD_BYTES,
  SESSION_AUTHORITY,
  utf8,
  type RelayedRequest,
  type RelayedResponse,
} from "@meshgate/schemas";
import { AnswerBody } from "./answer-body.js";
import type { MemorySocket } from "./memory-socket.js";

export interface ExchangeContext {
  /** A new in-memory connection to the agent's server; returns the client's end. */
  connect(): MemorySocket;
  /** Sends one encoded frame down the session. */
  send(frame: Uint8Array): void;
  /** The exchange sends nothing more: its stream can be forgotten. */
  finished(stream: number): void;
  coalesceMs?: number | undefined;
}

/** Fields about one hop's connection, not the message: the in-memory hop sets its own (or none). */
const HOP_FIELDS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);
/** Set from the relayed head itself rather than copied from its list. */
const SET_HERE: ReadonlySet<string> = new Set(["host", "content-length"]);
const MAX_ANSWER_HEADERS = 64;

/** The request's header list for Node's client: host and length from the relayed head, one exchange per connection. */
function requestHeaders(head: RelayedRequest): string[] {
  // The gateway signs @authority = SESSION_AUTHORITY, and the server checks it against Host.
  const host = head.headers.find(([name]) => name.toLowerCase() === "host")?.[1] ?? SESSION_AUTHORITY;
  const list = ["host", host];
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    if (!HOP_FIELDS.has(lower) && !SET_HERE.has(lower)) list.push(name, value);
  }
  list.push("content-length", String(head.body_bytes), "connection", "close");
  return list;
}

/** The answer's head as relayed: its status, and its headers less the in-memory hop's own. */
function answerHead(res: IncomingMessage): RelayedResponse {
  const headers: [string, string][] = [];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length && headers.length < MAX_ANSWER_HEADERS; i += 2) {
    const name = raw[i]!;
    if (!HOP_FIELDS.has(name.toLowerCase())) headers.push([name, raw[i + 1]!]);
  }
  return { status: res.statusCode ?? 502, headers };
}

export class RelayedExchange {
  private request: ClientRequest | null = null;
  private readonly body: AnswerBody;
  private response: IncomingMessage | null = null;
  private received = 0;
  private done = false;

  constructor(
    readonly stream: number,
    private readonly head: RelayedRequest,
    private readonly context: ExchangeContext,
  ) {
    this.body = new AnswerBody({
      stream,
      send: (frame) => context.send(frame),
      pause: () => this.response?.pause(),
      resume: () => this.response?.resume(),
      ended: () => this.complete(),
      coalesceMs: context.coalesceMs,
    });
  }

  /** Sends the request head to the server (its body follows with `write`). */
  start(): void {
    const { head, context } = this;
    try {
      this.request = httpRequest({
        method: head.method,
        path: head.path,
        headers: requestHeaders(head),
        createConnection: () => context.connect(),
      });
    } catch {
      // node:http refuses characters no HTTP request may carry, in the path or a header.
      this.fail("the relayed request head is not valid HTTP");
      return;
    }
    this.request.on("response", (res) => this.answer(res));
    this.request.on("error", () => this.fail("the node's server closed the connection"));
  }

  /** A REQUEST_BODY frame. */
  write(chunk: Uint8Array): void {
    if (this.done) return;
    this.received += chunk.byteLength;
    if (this.received <= this.head.body_bytes) this.request?.write(chunk);
    else this.fail("the request body is longer than declared");
  }

  /** REQUEST_END. */
  end(): void {
    if (this.done) return;
    if (this.received === this.head.body_bytes) this.request?.end();
    else this.fail("the request body is shorter than declared");
  }

  /** A CREDIT frame. */
  grant(bytes: number): void {
    this.body.grant(bytes);
  }

  /**
   * The gateway gave up on this answer (CANCEL), or the session closed: the connection to the server is dropped, as
   * a TCP connection from the gateway would be, so the server stops the upstream. Nothing more is sent.
   */
  drop(): void {
    if (this.done) return;
    this.done = true;
    this.body.stop();
    this.request?.destroy();
    this.context.finished(this.stream);
  }

  private answer(res: IncomingMessage): void {
    if (this.done) return void res.destroy();
    this.response = res;
    const head = utf8(JSON.stringify(answerHead(res)));
    if (head.byteLength > MAX_HEAD_BYTES) {
      this.fail("the answer's head is too large to relay");
      return;
    }
    // At once, before any body: the gateway times the node's first byte by it (event streams send it early).
    this.context.send(encodeFrame(FrameType.response, this.stream, head));
    res.on("data", (chunk: Buffer) => this.body.push(chunk));
    res.once("end", () => this.body.end());
    // An 'error' ("aborted") always comes with 'close' here; handled there.
    res.on("error", () => {});
    res.once("close", () => {
      if (!res.complete) this.fail("the answer broke off");
    });
  }

  /** RESPONSE_END went out. */
  private complete(): void {
    if (this.done) return;
    this.done = true;
    // Normally closed already; not when the server answered before the whole body was sent (e.g. a refusal).
    this.request?.destroy();
    this.context.finished(this.stream);
  }

  /** Ends the stream with RESPONSE_ERROR, after whatever of the body the credit lets out. */
  private fail(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.body.abandon();
    this.context.send(encodeFrame(FrameType.responseError, this.stream, utf8(reason)));
    this.request?.destroy();
    this.context.finished(this.stream);
  }
}
