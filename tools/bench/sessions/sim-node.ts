// One simulated node agent on a session: it dials the gateway with a signed WebSocket upgrade, says what it serves,
// pings every interval the welcome names, and, when the socket drops or an upgrade fails, does what the stock agent
// does (node-agent/src/session: its close policy, and its ReconnectBackoff with the same reset after a healthy
// session): dials again after a jittered backoff, or stops for good when the gateway says another agent holds the
// node. It keeps the times of its pings and pongs so the harness can replay the session's alarms.
import type { IncomingMessage } from "node:http";
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
import {
  HEALTHY_SESSION_MS,
  RECONNECT_BACKOFF,
  ReconnectBackoff,
  type BackoffPolicy,
} from "../../../node-agent/src/session/backoff.js";
import { nextStep } from "../../../node-agent/src/session/close-policy.js";
import type { ConnectionEnd } from "../../../node-agent/src/session/session-connection.js";
import { readUpgradeRefusal } from "../../../node-agent/src/session/upgrade-refusal.js";

/** Where a fleet's nodes report what happens to them. */
export interface NodeRecorder {
  /** An upgrade was sent; `retry` when it follows a failed one (or a dropped session). */
  attempt(at: number, retry: boolean): void;
  failure(kind: string): void;
  /** The node is live: its state was acknowledged, `latencyMs` after its upgrade was sent. */
  live(at: number, latencyMs: number): void;
  /** A live session's socket closed with `code`. */
  dropped(code: number): void;
  /** The node stopped for good, as the stock agent would (another agent took its node over). */
  halted(why: string): void;
}

export interface SimNodeOptions {
  identity: TestIdentity;
  /** The gateway's base URL (http://host:port); it keeps its port across a restart. */
  gatewayUrl: string;
  /** The stock agent's (RECONNECT_BACKOFF) unless a test says otherwise. */
  backoff?: BackoffPolicy;
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
/** An attempt that failed: what the failure tally calls it, and how it ended, for the agent's close policy. */
interface Failure {
  kind: string;
  end: ConnectionEnd;
}

function lost(kind: string, error: string): Failure {
  return { kind, end: { code: 1006, reason: "", refusal: null, error, welcomed: false, openForMs: 0 } };
}

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
  /** When the current session's first state went out (at its welcome): a registry row written later heard it. */
  stateSentAt: number | null = null;
  private ws: WebSocket | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private ackWaiters: ((ack: SessionStateAck | null) => void)[] = [];
  private stopped = false;
  private readonly backoff: ReconnectBackoff;
  /** What the node serves now: sent on every welcome, as the agent sends its current state. */
  private capacity: number;

  constructor(private readonly opts: SimNodeOptions) {
    this.backoff = new ReconnectBackoff(Math.random, opts.backoff ?? RECONNECT_BACKOFF);
    this.capacity = opts.capacity;
  }

  get id(): string {
    return this.opts.identity.id;
  }

  /**
   * Dials until live (true), or until stopped or halted (false): at once, or after `delayMs`; `retry` when this follows
   * a failed upgrade or a dropped session. Between failed attempts it waits as the stock agent does.
   */
  async connectUntilLive(delayMs = 0, retry = false): Promise<boolean> {
    for (let delay = delayMs, again = retry; ; again = true) {
      if (this.stopped) return false;
      if (delay > 0) await sleep(delay);
      if (this.stopped) return false;
      const failure = await this.attempt(again);
      if (failure === null) return true;
      this.opts.recorder.failure(failure.kind);
      const next = this.nextDelay(failure.end);
      if (next === null) return false;
      delay = next;
    }
  }

  /**
   * The stock agent's next step after `end` (NodeSession.ended in node-agent/src/session/node-session.ts): halt, or
   * the delay before it dials again; a session open for HEALTHY_SESSION_MS starts the backoff over.
   */
  private nextDelay(end: ConnectionEnd): number | null {
    const step = nextStep(end);
    if (step.kind === "halt") {
      this.stop();
      this.opts.recorder.halted(step.why);
      return null;
    }
    if (end.openForMs >= HEALTHY_SESSION_MS) this.backoff.reset();
    if (step.wait === "now") return 0;
    return step.wait === "cap" ? this.backoff.atCap() : this.backoff.next();
  }

  /**
   * The node now serves `capacity` (its next sessions say so too); sends the state message and resolves with its ack,
   * "dropped" if the session closes first, "timeout" if none comes.
   */
  sendState(capacity: number): Promise<SessionStateAck | "dropped" | "timeout"> {
    this.capacity = capacity;
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
    this.dropped(1006, "");
    ws.terminate();
  }

  stop(): void {
    this.stopped = true;
    this.stopPinging();
    this.ws?.terminate();
    this.ws = null;
  }

  /** One upgrade, up to the state ack: null when live, else why not. */
  private async attempt(retry: boolean): Promise<Failure | null> {
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
    return new Promise<Failure | null>((resolve) => {
      let settled = false;
      let welcomedAt: number | null = null;
      /** How an attempt that got this far ended, for the close policy. */
      const ended = (kind: string, code: number, reason: string): Failure => ({
        kind,
        end: {
          code,
          reason,
          refusal: null,
          error: null,
          welcomed: welcomedAt !== null,
          openForMs: welcomedAt === null ? 0 : Date.now() - welcomedAt,
        },
      });
      const settle = (failure: Failure | null): void => {
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
      const timer = setTimeout(() => settle(ended("timeout", 1006, "")), this.opts.attemptTimeoutMs);
      ws.on("unexpected-response", (req, res) => {
        void refusal(res).then((failure) => {
          req.destroy();
          settle(failure);
        });
      });
      ws.on("error", (err) => settle(lost(failureKind(err), err.message)));
      ws.on("close", (code, reason) => {
        if (!settled) settle(ended(`closed ${code}`, code, reason.toString("utf8")));
        else if (this.ws === ws) this.dropped(code, reason.toString("utf8"));
      });
      ws.on("message", (data, isBinary) => {
        if (isBinary) return;
        const raw = text(data);
        if (welcomedAt === null && parseMessage(raw)?.type === "welcome") welcomedAt = Date.now();
        this.onText(ws, raw, (refused) =>
          settle(refused === null ? null : ended(refused, SessionClose.protocolError, refused)),
        );
      });
    });
  }

  private onText(ws: WebSocket, raw: string, settle: (refused: string | null) => void): void {
    if (raw === SESSION_PONG) {
      this.pongsAt.push(Date.now());
      return;
    }
    const message = parseMessage(raw);
    if (message?.type === "welcome") {
      this.openedAt = Date.now();
      this.stateSentAt = this.openedAt;
      ws.send(JSON.stringify({ type: "state", models: MODELS, capacity: this.capacity }));
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

  private dropped(code: number, reason: string): void {
    this.stopPinging();
    const openForMs = this.openedAt === null ? 0 : Date.now() - this.openedAt;
    this.ws = null;
    this.liveSince = null;
    this.droppedAt = Date.now();
    this.opts.recorder.dropped(code);
    for (const waiter of this.ackWaiters.splice(0)) waiter(null);
    if (this.stopped) return;
    const end: ConnectionEnd = { code, reason, refusal: null, error: null, welcomed: true, openForMs };
    const delay = this.nextDelay(end);
    if (delay !== null) void this.connectUntilLive(delay, true);
  }
}

/** An upgrade the gateway answered with an HTTP error, read as the stock agent reads it (its status and code). */
async function refusal(res: IncomingMessage): Promise<Failure> {
  const refused = await readUpgradeRefusal(res);
  const kind = `http ${refused.status}${refused.code ? ` ${refused.code}` : ""}`;
  return { kind, end: { code: 1006, reason: "", refusal: refused, error: null, welcomed: false, openForMs: 0 } };
}
