// One simulated node agent on a session: it dials the gateway with a signed WebSocket upgrade, says what it serves,
// pings every interval the welcome names, and, when the socket drops, dials again with exponential backoff and full
// jitter, as agents do. It keeps the times of its pings and pongs so the harness can replay the session's alarms.
import WebSocket, { type RawData } from "ws";
import {
  GatewayMessageSchema,
  SESSION_PING,
  SESSION_PING_INTERVAL_MS,
  SESSION_PONG,
  SessionClose,
  sessionConnectPath,
  type GatewayMessage,
  type SessionStateAck,
} from "@meshgate/schemas";
import { signSessionUpgrade, type TestIdentity } from "@meshgate/schemas/testing";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.js";

/** Where a fleet's nodes report what happens to them. */
export interface NodeRecorder {
  /** An upgrade was sent; `retry` when it follows a failed one (or a dropped session). */
  attempt(at: number, retry: boolean): void;
  failure(kind: string): void;
  /** The node is live: its state was acknowledged, `latencyMs` after its upgrade was sent. */
  live(at: number, latencyMs: number): void;
  /** A live session's socket closed with `code`. */
  dropped(code: number): void;
}

export interface SimNodeOptions {
  identity: TestIdentity;
  /** The gateway's base URL (http://host:port); it keeps its port across a restart. */
  gatewayUrl: string;
  backoff: BackoffPolicy;
  /** An attempt that has not reached its state ack in this long is abandoned and retried. */
  attemptTimeoutMs: number;
  /** Offer permessage-deflate (ws does by default; workerd accepts it). */
  deflate: boolean;
  capacity: number;
  /** Shared by a fleet: while paused, nodes skip their pings (their timers keep running). */
  pings: { paused: boolean };
  recorder: NodeRecorder;
}

const MODELS = [{ id: "bench-model" }];
/** A state message unanswered this long is given up on (an agent would resend it). */
const ACK_TIMEOUT_MS = 30_000;
/**
 * Closes after which a node stops: a ban. The protocol says an agent replaced by another (4001) stops too, but every
 * simulated node is the only agent with its key, so a 4001 here means the node was replaced by an upgrade of its own
 * that it had given up on and the gateway completed later; it redials, and the phase counts the 4001s.
 */
const FINAL_CLOSES: ReadonlySet<number> = new Set([SessionClose.banned]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

function parseMessage(raw: string): GatewayMessage | null {
  try {
    const parsed = GatewayMessageSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function failureKind(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? err.message.slice(0, 60);
}

export class SimNode {
  /** When each ping was sent and each pong came back (ms since the epoch), in order. */
  readonly pingsSentAt: number[] = [];
  readonly pongsAt: number[] = [];
  /** When the current session's welcome arrived: the object opened the session just before. */
  openedAt: number | null = null;
  liveSince: number | null = null;
  /** When the last session dropped. */
  droppedAt: number | null = null;
  private ws: WebSocket | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private ackWaiters: ((ack: SessionStateAck | null) => void)[] = [];
  private stopped = false;

  constructor(private readonly opts: SimNodeOptions) {}

  get id(): string {
    return this.opts.identity.id;
  }

  /** Dials until live (true), or until stopped or told not to come back (false). Retry 0 dials at once. */
  async connectUntilLive(firstRetry = 0): Promise<boolean> {
    for (let retry = firstRetry; ; retry++) {
      if (this.stopped) return false;
      if (retry > 0) await sleep(backoffDelayMs(retry, this.opts.backoff));
      if (this.stopped) return false;
      const failure = await this.attempt(retry > 0);
      if (failure === null) return true;
      this.opts.recorder.failure(failure);
      if (failure === "final") return false;
    }
  }

  /** Sends a state message; resolves with its ack, "dropped" if the session closes first, "timeout" if none comes. */
  sendState(capacity: number): Promise<SessionStateAck | "dropped" | "timeout"> {
    const ws = this.ws;
    if (!ws || this.liveSince === null) return Promise.resolve("dropped");
    return new Promise((resolve) => {
      const waiter = (ack: SessionStateAck | null): void => {
        clearTimeout(timer);
        resolve(ack ?? "dropped");
      };
      const timer = setTimeout(() => {
        this.ackWaiters = this.ackWaiters.filter((w) => w !== waiter);
        resolve("timeout");
      }, ACK_TIMEOUT_MS);
      this.ackWaiters.push(waiter);
      ws.send(JSON.stringify({ type: "state", models: MODELS, capacity: capacity }));
    });
  }

  /** One keep-alive now, recorded like the scheduled ones; false if the node is not live. */
  ping(): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(SESSION_PING);
    this.pingsSentAt.push(Date.now());
    return true;
  }

  /** Breaks the live socket without a close handshake, as a lost network path does; the node then redials. */
  breakSocket(): void {
    const ws = this.ws;
    if (!ws) return;
    // Dropped now rather than at the close event, so the node counts as down from this instant.
    this.dropped(1006);
    ws.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.stopPinging();
    this.ws?.terminate();
    this.ws = null;
  }

  /** One upgrade, up to the state ack: null when live, else why not. */
  private async attempt(retry: boolean): Promise<string | null> {
    const started = Date.now();
    this.opts.recorder.attempt(started, retry);
    const url = `${this.opts.gatewayUrl}${sessionConnectPath(this.id)}`;
    const { signer, publicKey } = this.opts.identity;
    const headers = await signSessionUpgrade({ url, signer, publicKey, now: started });
    const ws = new WebSocket(url.replace(/^http/, "ws"), {
      headers: Object.fromEntries(headers),
      perMessageDeflate: this.opts.deflate,
      handshakeTimeout: this.opts.attemptTimeoutMs,
    });
    return new Promise<string | null>((resolve) => {
      let settled = false;
      const settle = (failure: string | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (failure === null) {
          this.becameLive(ws, started);
        } else {
          // The pings begun at the welcome belong to this failed socket.
          this.stopPinging();
          ws.terminate();
        }
        resolve(failure);
      };
      const timer = setTimeout(() => settle("timeout"), this.opts.attemptTimeoutMs);
      ws.on("unexpected-response", (req, res) => {
        res.resume();
        req.destroy();
        settle(`http ${res.statusCode ?? 0}`);
      });
      ws.on("error", (err) => settle(failureKind(err)));
      ws.on("close", (code) => {
        if (!settled) settle(FINAL_CLOSES.has(code) ? "final" : `closed ${code}`);
        else if (this.ws === ws) this.dropped(code);
      });
      ws.on("message", (data, isBinary) => {
        if (!isBinary) this.onText(ws, text(data), settle);
      });
    });
  }

  private onText(ws: WebSocket, raw: string, settle: (failure: string | null) => void): void {
    if (raw === SESSION_PONG) {
      this.pongsAt.push(Date.now());
      return;
    }
    const message = parseMessage(raw);
    if (message?.type === "welcome") {
      this.openedAt = Date.now();
      ws.send(JSON.stringify({ type: "state", models: MODELS, capacity: this.opts.capacity }));
      this.pingEvery(ws, message.ping_interval_ms);
    } else if (message?.type === "state.ack") {
      if (this.ws !== ws) settle(message.accepted ? null : `refused ${message.code ?? ""}`);
      else this.ackWaiters.shift()?.(message);
    }
  }

  private becameLive(ws: WebSocket, started: number): void {
    const now = Date.now();
    this.ws = ws;
    this.liveSince = now;
    this.opts.recorder.live(now, now - started);
  }

  /** Pings start with the session, as an agent's do: the silence limit runs from the opening. */
  private pingEvery(ws: WebSocket, intervalMs: number): void {
    this.stopPinging();
    this.pingTimer = setInterval(
      () => {
        if (this.opts.pings.paused || ws.readyState !== WebSocket.OPEN) return;
        ws.send(SESSION_PING);
        this.pingsSentAt.push(Date.now());
      },
      intervalMs > 0 ? intervalMs : SESSION_PING_INTERVAL_MS,
    );
  }

  private stopPinging(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private dropped(code: number): void {
    this.stopPinging();
    this.ws = null;
    this.liveSince = null;
    this.droppedAt = Date.now();
    this.opts.recorder.dropped(code);
    for (const waiter of this.ackWaiters.splice(0)) waiter(null);
    if (this.stopped || FINAL_CLOSES.has(code)) return;
    void this.connectUntilLive(1);
  }
}
