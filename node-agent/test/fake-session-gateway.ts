// A stand-in for the gateway's side of node sessions: serves its metadata and keys, checks each upgrade's signature
// as the Worker does (RFC 9421 by the node key in meshgate-node-key, the path naming that node), welcomes the node,
// answers pings and state, and lets a test relay signed requests down the socket and read the answers' frames.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import {
  decodeFrame,
  encodeCredit,
  encodeFrame,
  FrameType,
  jwkThumbprint,
  newSeed,
  NODE_KEY_HEADER,
  nodeKeyVerifier,
  publicJwk,
  RelayedResponseSchema,
  SESSION_CONNECT_PATH,
  SESSION_ORIGIN,
  SESSION_PING,
  SESSION_PONG,
  SessionStateSchema,
  verifyRequest,
  webCryptoSignerFromSeed,
  webCryptoVerify,
  type GatewayMetadata,
  type HeartbeatAck,
  type RelayedResponse,
  type SessionState,
  type SessionStateAck,
  type SessionWelcome,
  type Signer,
} from "@meshgate/schemas";
import { jsonBody, signGatewayRequest } from "@meshgate/schemas/testing";
import { WebSocket, WebSocketServer } from "ws";

export interface FakeSessionGatewayOptions {
  /** Published as `session_path`; null publishes none (the agent then uses the protocol's default). */
  sessionPath?: string | null;
  /** What the welcome says. */
  pingIntervalMs?: number;
  silenceLimitMs?: number;
  reconnectWindowMs?: number;
  /** Every welcome says it replaced a live session of the node. */
  replaced?: boolean;
  /** How the first states are answered, in order (null: not at all); later ones are accepted. */
  stateAnswers?: (Omit<SessionStateAck, "type"> | null)[];
  /** Refuse the first upgrades that verify, as refuseNext does. */
  refuseFirst?: { count: number; status: number; error: { message: string; code: string } };
  /** The `interval_ms` heartbeat acks ask for (heartbeats are counted, not verified: fake-gateway.ts checks those). */
  heartbeatIntervalMs?: number;
}

export interface UpgradeAttempt {
  path: string;
  /** The verified keyid, or null when the signature did not verify. */
  keyId: string | null;
  error: string | null;
}

/** How a relayed answer ended: RESPONSE_END (error null) or RESPONSE_ERROR (its reason). */
export interface RelayedAnswer {
  head: RelayedResponse | null;
  body: string;
  error: string | null;
}

export interface RelayOptions {
  /** The node the request is addressed to (covered by the signature); the session's node by default. */
  nodeId?: string;
  signer?: Signer;
  /** The path the signature covers, when not the one requested (a signature that does not verify). */
  signedPath?: string;
  requestId?: string;
  /** Grant credit for every body byte as it arrives (the default), as a gateway reading at once does. */
  autoCredit?: boolean;
  /** Headers and body exactly as another relay sent them (a replay). */
  replayOf?: SignedRelay;
}

export interface SignedRelay {
  headers: [string, string][];
  body: Uint8Array;
}

export interface RelayedStream {
  stream: number;
  signed: SignedRelay;
  head: Promise<RelayedResponse>;
  done: Promise<RelayedAnswer>;
  /** Body bytes received so far. */
  received(): number;
  /** Credit granted so far, beyond the window. */
  granted(): number;
  /** Resolves once at least `bytes` body bytes arrived. */
  waitForBytes(bytes: number): Promise<void>;
  grant(bytes: number): void;
  cancel(): void;
}

interface StreamState {
  head: RelayedResponse | null;
  chunks: Buffer[];
  bytes: number;
  granted: number;
  autoCredit: boolean;
  resolveHead(head: RelayedResponse): void;
  resolveDone(answer: RelayedAnswer): void;
  byteWaiters: { bytes: number; resolve: () => void }[];
}

export class GatewaySide {
  readonly states: SessionState[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Node → gateway frames that broke the flow-control promise (more body than window + credit). */
  readonly overruns: string[] = [];
  private readonly streams = new Map<number, StreamState>();
  private nextStream = 1;
  private stateWaiters: ((state: SessionState) => void)[] = [];

  constructor(
    readonly socket: WebSocket,
    readonly nodeId: string,
    readonly keyId: string,
    private readonly gateway: FakeSessionGateway,
  ) {
    this.closed = new Promise((resolve) =>
      socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    socket.on("message", (data, isBinary) => this.receive(data as Buffer, isBinary));
  }

  /** The node's first state on this socket (or the next, once one was read). */
  waitForState(index = 0): Promise<SessionState> {
    const state = this.states[index];
    if (state) return Promise.resolve(state);
    return new Promise((resolve) => this.stateWaiters.push(resolve));
  }

  /** Signs a request as the gateway does for this node and sends it down the socket: REQUEST, its body, REQUEST_END. */
  async relay(path: string, payload: unknown, options: RelayOptions = {}): Promise<RelayedStream> {
    const signed = options.replayOf ?? (await this.sign(path, payload, options));
    const stream = this.nextStream++;
    const relayed = this.track(stream, options.autoCredit ?? true, signed);
    const head = { method: "POST", path, headers: signed.headers, body_bytes: signed.body.byteLength };
    this.sendFrame(FrameType.request, stream, jsonBody(head));
    this.sendFrame(FrameType.requestBody, stream, signed.body);
    this.sendFrame(FrameType.requestEnd, stream);
    return relayed;
  }

  sendFrame(type: FrameType, stream: number, payload?: Uint8Array): void {
    this.socket.send(encodeFrame(type, stream, payload));
  }

  private async sign(path: string, payload: unknown, options: RelayOptions): Promise<SignedRelay> {
    const body = jsonBody(payload);
    const headers = await signGatewayRequest({
      url: `${SESSION_ORIGIN}${options.signedPath ?? path}`,
      body,
      signer: options.signer ?? this.gateway.signer,
      nodeId: options.nodeId ?? this.nodeId,
      requestId: options.requestId ?? `req_${Math.random().toString(36).slice(2)}`,
    });
    return { headers: [...headers], body };
  }

  private track(stream: number, autoCredit: boolean, signed: SignedRelay): RelayedStream {
    let resolveHead: (head: RelayedResponse) => void = () => {};
    let resolveDone: (answer: RelayedAnswer) => void = () => {};
    const head = new Promise<RelayedResponse>((resolve) => (resolveHead = resolve));
    const done = new Promise<RelayedAnswer>((resolve) => (resolveDone = resolve));
    const state: StreamState = {
      head: null,
      chunks: [],
      bytes: 0,
      granted: 0,
      autoCredit,
      resolveHead,
      resolveDone,
      byteWaiters: [],
    };
    this.streams.set(stream, state);
    return {
      stream,
      signed,
      head,
      done,
      received: () => state.bytes,
      granted: () => state.granted,
      waitForBytes: (bytes) =>
        state.bytes >= bytes ? Promise.resolve() : new Promise((resolve) => state.byteWaiters.push({ bytes, resolve })),
      grant: (bytes) => {
        state.granted += bytes;
        this.sendFrame(FrameType.credit, stream, encodeCredit(bytes));
      },
      cancel: () => this.sendFrame(FrameType.cancel, stream),
    };
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.receiveText(data.toString("utf8"));
      return;
    }
    const frame = decodeFrame(data);
    if (!frame) throw new Error("the agent sent a malformed frame");
    const state = this.streams.get(frame.stream);
    if (!state) return;
    const payload = Buffer.from(frame.payload);
    if (frame.type === FrameType.response) {
      state.head = RelayedResponseSchema.parse(JSON.parse(payload.toString("utf8")));
      state.resolveHead(state.head);
    } else if (frame.type === FrameType.responseBody) {
      this.receiveBody(frame.stream, state, payload);
    } else if (frame.type === FrameType.responseEnd || frame.type === FrameType.responseError) {
      const error = frame.type === FrameType.responseError ? payload.toString("utf8") : null;
      this.streams.delete(frame.stream);
      state.resolveDone({ head: state.head, body: Buffer.concat(state.chunks).toString("utf8"), error });
    }
  }

  private receiveBody(stream: number, state: StreamState, payload: Buffer): void {
    state.chunks.push(payload);
    state.bytes += payload.length;
    if (state.bytes > this.gateway.windowBytes + state.granted)
      this.overruns.push(`stream ${stream}: ${state.bytes} bytes against ${state.granted} granted`);
    for (const waiter of state.byteWaiters.filter((w) => state.bytes >= w.bytes)) {
      state.byteWaiters.splice(state.byteWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (state.autoCredit) {
      state.granted += payload.length;
      this.sendFrame(FrameType.credit, stream, encodeCredit(payload.length));
    }
  }

  private receiveText(text: string): void {
    if (text === SESSION_PING) {
      if (this.gateway.answerPings) this.socket.send(SESSION_PONG);
      return;
    }
    const state = SessionStateSchema.parse(JSON.parse(text));
    this.states.push(state);
    const answer = this.gateway.nextStateAnswer();
    if (answer) this.socket.send(JSON.stringify({ type: "state.ack", ...answer }));
    for (const resolve of this.stateWaiters.splice(0)) resolve(state);
  }
}

export class FakeSessionGateway {
  url = "";
  readonly attempts: UpgradeAttempt[] = [];
  readonly sessions: GatewaySide[] = [];
  /** When each heartbeat arrived (listening agents). */
  readonly heartbeats: number[] = [];
  /** What heartbeat acks say: "active" once the node's URL is proven. */
  heartbeatStatus: "active" | "pending_verification" = "active";
  /** Answer the agent's pings (a silent gateway does not). */
  answerPings = true;
  readonly windowBytes: number;
  private readonly server: Server;
  private readonly sockets = new WebSocketServer({ noServer: true });
  private refusals: { left: number; status: number; error: { message: string; code: string } } | null = null;
  private sessionWaiters: { count: number; resolve: () => void }[] = [];
  private stateAnswers: (Omit<SessionStateAck, "type"> | null)[];

  /** How the gateway answers the next state the agent sends (null: not at all). */
  nextStateAnswer(): Omit<SessionStateAck, "type"> | null {
    return this.stateAnswers.length > 0 ? (this.stateAnswers.shift() ?? null) : { accepted: true };
  }

  private constructor(
    readonly signer: Signer,
    private readonly metadata: GatewayMetadata,
    private readonly options: FakeSessionGatewayOptions,
    windowBytes: number,
  ) {
    this.windowBytes = windowBytes;
    this.stateAnswers = [...(options.stateAnswers ?? [])];
    if (options.refuseFirst) this.refusals = { left: options.refuseFirst.count, ...options.refuseFirst };
    this.server = createServer((req, res) => {
      if (req.method === "GET" && req.url === "/.well-known/meshgate.json")
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.metadata));
      if (req.method === "POST" && req.url === this.metadata.heartbeat_path) return void this.heartbeat(req, res);
      res.writeHead(404).end();
    });
    this.server.on(
      "upgrade",
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head),
    );
  }

  static async start(options: FakeSessionGatewayOptions = {}, windowBytes = 1024 * 1024): Promise<FakeSessionGateway> {
    const { signer, publicKey } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
    const sessionPath = options.sessionPath === undefined ? SESSION_CONNECT_PATH : options.sessionPath;
    const metadata: GatewayMetadata = {
      issuer: "meshgate",
      keys: [{ kid: signer.keyId, alg: "ed25519", jwk: publicJwk(publicKey), status: "current", not_after: null }],
      heartbeat_path: "/v1/nodes/heartbeat",
      ...(sessionPath === null ? {} : { session_path: sessionPath }),
      heartbeat_interval_ms: 2000,
      node_ttl_ms: 10_000,
    };
    const gateway = new FakeSessionGateway(signer, metadata, options, windowBytes);
    await new Promise<void>((resolve) => gateway.server.listen(0, "127.0.0.1", resolve));
    gateway.url = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
    return gateway;
  }

  /** Resolves with the `count`-th session accepted (1 for the first). */
  async waitForSession(count: number): Promise<GatewaySide> {
    if (this.sessions.length < count)
      await new Promise<void>((resolve) => this.sessionWaiters.push({ count, resolve }));
    return this.sessions[count - 1]!;
  }

  /** Answers the next `count` upgrades that verify with this HTTP error instead of opening a session. */
  refuseNext(count: number, status: number, error: { message: string; code: string }): void {
    this.refusals = { left: count, status, error };
  }

  async close(): Promise<void> {
    for (const side of this.sessions) side.socket.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = req.url ?? "";
    let keyId: string;
    try {
      keyId = await this.verify(req);
    } catch (err) {
      this.attempts.push({ path, keyId: null, error: err instanceof Error ? err.message : String(err) });
      return refuse(socket, 401, { message: "Session refused", code: "refused" });
    }
    this.attempts.push({ path, keyId, error: null });
    const nodeId = path.slice(path.lastIndexOf("/") + 1);
    if (this.refusals && this.refusals.left > 0) {
      this.refusals.left -= 1;
      return refuse(socket, this.refusals.status, this.refusals.error);
    }
    this.sockets.handleUpgrade(req, socket, head, (ws) => this.accept(ws, nodeId, keyId));
  }

  private async heartbeat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const hb = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { node_id: string; seq: number };
    this.heartbeats.push(Date.now());
    const ack: HeartbeatAck = {
      object: "heartbeat.ack",
      node_id: hb.node_id,
      seq: hb.seq,
      registered: this.heartbeats.length === 1,
      status: this.heartbeatStatus,
      interval_ms: this.options.heartbeatIntervalMs ?? 2_000,
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ack));
  }

  private async verify(req: IncomingMessage): Promise<string> {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const { keyId } = await verifyRequest({
      message: { method: "GET", url: `${this.url}${req.url}`, headers },
      body: new Uint8Array(0),
      policy: { now: Date.now(), maxSkewSeconds: 30, maxAgeSeconds: 60 },
      verify: nodeKeyVerifier(headers.get(NODE_KEY_HEADER), webCryptoVerify),
    });
    const expected = `${this.metadata.session_path ?? SESSION_CONNECT_PATH}/`;
    if (!req.url?.startsWith(expected)) throw new Error(`wrong path ${req.url}`);
    return keyId;
  }

  private accept(ws: WebSocket, nodeId: string, keyId: string): void {
    const replaced =
      this.options.replaced ?? this.sessions.some((s) => s.nodeId === nodeId && s.socket.readyState === WebSocket.OPEN);
    const side = new GatewaySide(ws, nodeId, keyId, this);
    this.sessions.push(side);
    const welcome: SessionWelcome = {
      type: "welcome",
      node_id: nodeId,
      session: this.sessions.filter((s) => s.nodeId === nodeId).length,
      replaced,
      ping_interval_ms: this.options.pingIntervalMs ?? 5_000,
      silence_limit_ms: this.options.silenceLimitMs ?? 15_000,
      ...(this.options.reconnectWindowMs === undefined ? {} : { reconnect_window_ms: this.options.reconnectWindowMs }),
    };
    ws.send(JSON.stringify(welcome));
    for (const waiter of this.sessionWaiters.filter((w) => this.sessions.length >= w.count)) {
      this.sessionWaiters.splice(this.sessionWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

function refuse(socket: Duplex, status: number, error: { message: string; code: string }): void {
  const body = JSON.stringify({ error: { ...error, type: "authentication_error", param: null } });
  socket.end(
    `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
