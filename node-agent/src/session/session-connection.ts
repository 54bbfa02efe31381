// One session socket, from the upgrade to its close: reads the gateway's welcome and state acks, sends the node's
// state, keeps the socket alive with pings (and gives it up when the gateway falls silent), and hands binary frames
// to the socket's tunnel. It reports how it ended once; whether and when to dial again is the caller's decision.
import type { IncomingMessage } from "node:http";
import {
  FRAME_HEADER_BYTES,
  GatewayMessageSchema,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SESSION_HANDSHAKE_TIMEOUT_MS,
  SESSION_PING,
  SESSION_PING_INTERVAL_MS,
  SESSION_PONG,
  SESSION_SILENCE_LIMIT_MS,
  SessionClose,
  type SessionState,
  type SessionStateAck,
  type SessionWelcome,
} from "@meshgate/schemas";
import { WebSocket, type RawData } from "ws";
import type { GatewayError } from "../gateway/error-response.js";
import type { Logger } from "../log.js";
import type { SessionUrls } from "./connect-request.js";
import { ProtocolError, Tunnel, type TunnelOptions } from "./tunnel.js";
import { readUpgradeRefusal } from "./upgrade-refusal.js";

/** What the gateway may ask for in its welcome, so a broken one cannot make the agent ping in a busy loop. */
const PING_INTERVAL_BOUNDS = { min: 100, max: 60_000 };
const SILENCE_LIMIT_BOUNDS = { min: 300, max: 300_000 };
/** How long a sent state may go unanswered before it is sent again (an ack can be lost when the gateway is busy). */
export const STATE_ACK_TIMEOUT_MS = 10_000;
/** Refusals that pass by themselves: the state is sent again after STATE_ACK_TIMEOUT_MS. */
export const RETRYABLE_REFUSALS: ReadonlySet<string> = new Set(["rate_limited", "gateway_busy"]);

/** Keep-alive timing; without these, what the welcome says (before it, the protocol's defaults). */
export interface KeepAliveTiming {
  pingIntervalMs?: number | undefined;
  silenceLimitMs?: number | undefined;
  /** How long a sent state may go unanswered, or a passing refusal stand, before the state is sent again. */
  stateRetryMs?: number | undefined;
}

/** How a connection ended. */
export interface ConnectionEnd {
  /** The close code; 1006 when the connection failed or dropped without a close frame. */
  code: number;
  reason: string;
  /** The gateway answered the upgrade with an HTTP error instead of opening the session. */
  refusal: GatewayError | null;
  /** What went wrong on this side, when something did (a network error, silence, a protocol breach). */
  error: string | null;
  /** Whether the gateway welcomed the session (it was open), and for how long, from the welcome. */
  welcomed: boolean;
  openForMs: number;
}

export interface SessionConnectionOptions {
  urls: SessionUrls;
  /** The signed upgrade request's headers. */
  headers: Record<string, string>;
  tunnel: Omit<TunnelOptions, "send">;
  timing: KeepAliveTiming;
  log: Logger;
  now: () => number;
  onWelcome(welcome: SessionWelcome): void;
  /** The gateway accepted the state (true) or refused it for good (false); not called on a passing refusal. */
  onStateAck?(accepted: boolean): void;
  onEnd(end: ConnectionEnd): void;
}

function clamp(value: number, bounds: { min: number; max: number }): number {
  return Math.min(Math.max(value, bounds.min), bounds.max);
}

function bytesOf(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export class SessionConnection {
  private readonly socket: WebSocket;
  private readonly tunnel: Tunnel;
  private readonly openedAt: number;
  private welcomedAt: number | null = null;
  private lastHeard: number;
  private pingIntervalMs: number;
  private silenceLimitMs: number;
  private keepAlive: NodeJS.Timeout | null = null;
  private refusal: GatewayError | null = null;
  private error: string | null = null;
  /** The state last sent on this socket, as sent, so an unchanged one is not sent again. */
  private sentState: string | null = null;
  /** Sends the state again when its answer is late or a passing refusal; null once the gateway accepted it. */
  private stateRetry: NodeJS.Timeout | null = null;
  private readonly closed: Promise<void>;

  constructor(private readonly options: SessionConnectionOptions) {
    this.openedAt = this.lastHeard = options.now();
    this.pingIntervalMs = options.timing.pingIntervalMs ?? SESSION_PING_INTERVAL_MS;
    this.silenceLimitMs = options.timing.silenceLimitMs ?? SESSION_SILENCE_LIMIT_MS;
    this.tunnel = new Tunnel({ ...options.tunnel, send: (frame) => this.sendFrame(frame) });
    this.socket = new WebSocket(options.urls.socket, {
      headers: options.headers,
      handshakeTimeout: SESSION_HANDSHAKE_TIMEOUT_MS,
      // Bounds what one message from the gateway can make this process hold: a frame, or a control message.
      maxPayload: Math.max(FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES, MAX_CONTROL_MESSAGE_BYTES),
      // Bodies are mostly small event-stream chunks: compressing them costs CPU on both ends for little.
      perMessageDeflate: false,
    });
    let resolveClosed: () => void = () => {};
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.socket.on("open", () => this.opened());
    this.socket.on("message", (data, isBinary) => this.receive(bytesOf(data), isBinary));
    this.socket.on("unexpected-response", (_req, res) => void this.refused(res));
    this.socket.on("error", (err) => {
      this.error ??= err.message;
    });
    this.socket.on("close", (code, reason) => {
      this.ended(code, reason.toString("utf8"));
      resolveClosed();
    });
  }

  /** Relayed exchanges under way on this socket. */
  get exchanges(): number {
    return this.tunnel.size;
  }

  /** Sends the node's state, unless this socket already carries the same. */
  sendState(state: SessionState): void {
    const text = JSON.stringify(state);
    if (this.welcomedAt === null || text === this.sentState) return;
    this.sentState = text;
    this.socket.send(text);
    this.retryStateLater("no answer to this node's state");
  }

  private retryStateLater(why: string): void {
    if (this.stateRetry) clearTimeout(this.stateRetry);
    const delayMs = this.options.timing.stateRetryMs ?? STATE_ACK_TIMEOUT_MS;
    this.stateRetry = setTimeout(() => {
      const text = this.sentState;
      if (text === null || this.socket.readyState !== WebSocket.OPEN) return;
      this.options.log(`${why}; sending it again`, { after_ms: delayMs });
      this.socket.send(text);
      this.retryStateLater("no answer to this node's state");
    }, delayMs);
  }

  /** Closes with a close frame; resolves once the socket is closed (dropped, after `timeoutMs` without an answer). */
  async close(code: number, reason: string, timeoutMs: number): Promise<void> {
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate();
    else this.socket.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.closed, late]);
    clearTimeout(timer);
    this.socket.terminate();
    await this.closed;
  }

  private opened(): void {
    this.lastHeard = this.options.now();
    this.startKeepAlive();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.lastHeard = this.options.now();
    try {
      if (isBinary) this.tunnel.receive(data);
      else this.receiveText(data);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.error = `the gateway sent ${err.message}`;
      this.options.log("closing the session: the gateway broke the protocol", { error: this.error });
      this.socket.close(SessionClose.protocolError, "protocol error");
    }
  }

  private receiveText(data: Buffer): void {
    if (data.length > MAX_CONTROL_MESSAGE_BYTES) throw new ProtocolError("a control message over the size limit");
    const text = data.toString("utf8");
    if (text === SESSION_PONG) return;
    let parsed: ReturnType<typeof GatewayMessageSchema.safeParse>;
    try {
      parsed = GatewayMessageSchema.safeParse(JSON.parse(text));
    } catch {
      throw new ProtocolError("a control message that is not JSON");
    }
    // A message a newer gateway sends that this agent does not know: not an error, nothing to do.
    if (!parsed.success) return void this.options.log("ignored a message from the gateway this agent does not know");
    if (parsed.data.type === "welcome") this.welcomed(parsed.data);
    else this.acknowledged(parsed.data);
  }

  private welcomed(welcome: SessionWelcome): void {
    this.welcomedAt = this.options.now();
    const { timing } = this.options;
    this.pingIntervalMs = timing.pingIntervalMs ?? clamp(welcome.ping_interval_ms, PING_INTERVAL_BOUNDS);
    this.silenceLimitMs = timing.silenceLimitMs ?? clamp(welcome.silence_limit_ms, SILENCE_LIMIT_BOUNDS);
    this.startKeepAlive();
    this.options.onWelcome(welcome);
  }

  private acknowledged(ack: SessionStateAck): void {
    if (this.stateRetry) clearTimeout(this.stateRetry);
    this.stateRetry = null;
    if (ack.accepted) {
      this.options.log("gateway accepted this node's state; receiving traffic");
      this.options.onStateAck?.(true);
      return;
    }
    if (ack.code !== undefined && RETRYABLE_REFUSALS.has(ack.code)) {
      this.options.log("gateway cannot take this node's state just now", { code: ack.code, error: ack.message });
      this.retryStateLater("the gateway was busy");
      return;
    }
    this.options.log("gateway refused this node's state; it routes nothing here until that is fixed", {
      code: ack.code,
      error: ack.message,
    });
    this.options.onStateAck?.(false);
  }

  private startKeepAlive(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = setInterval(() => this.keepAliveTick(), this.pingIntervalMs);
  }

  private keepAliveTick(): void {
    const now = this.options.now();
    const silentFor = now - this.lastHeard;
    const unwelcomedFor = this.welcomedAt === null ? now - this.openedAt : 0;
    if (silentFor < this.silenceLimitMs && unwelcomedFor < this.silenceLimitMs) {
      this.socket.send(SESSION_PING);
      return;
    }
    this.error =
      silentFor >= this.silenceLimitMs
        ? `the gateway was silent for ${silentFor} ms`
        : `the gateway sent no welcome in ${unwelcomedFor} ms`;
    // A dead peer will not answer a close frame: drop the connection now.
    this.socket.terminate();
  }

  private async refused(res: IncomingMessage): Promise<void> {
    this.refusal = await readUpgradeRefusal(res);
    this.socket.terminate();
  }

  private sendFrame(frame: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }

  private ended(code: number, reason: string): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.stateRetry) clearTimeout(this.stateRetry);
    this.keepAlive = this.stateRetry = null;
    this.tunnel.dropAll();
    const welcomed = this.welcomedAt !== null;
    const openForMs = this.welcomedAt === null ? 0 : this.options.now() - this.welcomedAt;
    this.options.onEnd({ code, reason, refusal: this.refusal, error: this.error, welcomed, openForMs });
  }
}
