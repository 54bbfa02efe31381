// One simulated node agent on a session, behaving as the stock agent does (node-agent/src/session): it dials the
// gateway with a signed WebSocket upgrade (given up after the handshake timeout), says what it serves (sent again while
// unanswered, or refused as busy), pings every interval the welcome names and drops a socket it has heard nothing on
// for the silence limit; when the socket ends it follows the agent's close policy and its own ReconnectBackoff (the
// welcome's first window, reset after a healthy session). It keeps the times of its pings and pongs so the harness
// can replay the session's alarms.
import type { IncomingMessage } from "node:http";
import WebSocket, { type RawData } from "ws";
import {
  GatewayMessageSchema,
  SESSION_PING,
  SESSION_PING_INTERVAL_MS,
  SESSION_PONG,
  SESSION_SILENCE_LIMIT_MS,
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
import {
  RETRYABLE_REFUSALS,
  STATE_ACK_TIMEOUT_MS,
  type ConnectionEnd,
} from "../../../node-agent/src/session/session-connection.js";
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
  /** An upgrade not answered in this long is given up (the agent's handshake timeout, 10 s). */
  attemptTimeoutMs: number;
  /** Offer permessage-deflate (ws does by default; workerd accepts it). */
  deflate: boolean;
  capacity: number;
  /** Shared by a fleet: while paused, nodes skip their pings (their timers keep running). */
  pings: { paused: boolean };
  recorder: NodeRecorder;
}

const MODELS = [{ id: "bench-model" }];
/** How long the state-change phase waits for an ack (the state is sent again meanwhile, as below). */
const ACK_TIMEOUT_MS = 30_000;
/** The agent's: a state unanswered this long, or refused as passing (RETRYABLE_REFUSALS), is sent again. */
const STATE_RETRY_MS = STATE_ACK_TIMEOUT_MS;
/** What a socket given up for silence records as its error. */
const SILENT = "the gateway was silent";

/** One socket, from the upgrade to its close: what the agent's SessionConnection tracks. */
interface Link {
  ws: WebSocket;
  dialledAt: number;
  lastHeard: number;
  welcomedAt: number | null;
  silenceLimitMs: number;
  sentState: string | null;
  stateRetry: NodeJS.Timeout | null;
  keepAlive: NodeJS.Timeout | null;
  error: string | null;
}
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
  if (code) return code;
  return /handshake has timed out/.test(err.message) ? "handshake timeout" : err.message.slice(0, 60);
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
  private link: Link | null = null;
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
   * The node now serves `capacity` (its next sessions say so too); sends the state message and resolves with its ack,
   * "dropped" if the session closes first, "timeout" if none comes.
   */
  sendState(capacity: number): Promise<SessionStateAck | "dropped" | "timeout"> {
    this.capacity = capacity;
    const link = this.link;
    if (!link || this.liveSince === null) return Promise.resolve("dropped");
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
      this.sendStateOn(link);
    });
  }

  /** One keep-alive now, recorded like the scheduled ones; false if the node is not live. */
  ping(): boolean {
    const ws = this.link?.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(SESSION_PING);
    this.pingsSentAt.push(Date.now());
    return true;
  }

  /** Breaks the live socket without a close handshake, as a lost network path does; the node then redials. */
  breakSocket(): void {
    const link = this.link;
    if (!link) return;
    // Dropped now rather than at the close event, so the node counts as down from this instant.
    this.dropped(1006, "");
    link.ws.terminate();
  }

  stop(): void {
    this.stopped = true;
    const link = this.link;
    this.link = null;
    if (!link) return;
    stopTimers(link);
    link.ws.terminate();
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

  /** One upgrade, up to the state's acceptance: null when live, else how it failed. */
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
    const link: Link = {
      ws,
      dialledAt: started,
      lastHeard: started,
      welcomedAt: null,
      silenceLimitMs: SESSION_SILENCE_LIMIT_MS,
      sentState: null,
      stateRetry: null,
      keepAlive: null,
      error: null,
    };
    return new Promise<Failure | null>((resolve) => {
      let settled = false;
      /** How an attempt that got as far as a socket ended, for the close policy. */
      const ended = (kind: string, code: number, reason: string): Failure => ({
        kind,
        end: {
          code,
          reason,
          refusal: null,
          error: link.error,
          welcomed: link.welcomedAt !== null,
          openForMs: link.welcomedAt === null ? 0 : Date.now() - link.welcomedAt,
        },
      });
      const settle = (failure: Failure | null): void => {
        if (settled) return;
        settled = true;
        if (failure === null) {
          this.becameLive(link, started);
        } else {
          stopTimers(link);
          ws.terminate();
        }
        resolve(failure);
      };
      ws.on("open", () => {
        link.lastHeard = Date.now();
        this.keepAlive(link, SESSION_PING_INTERVAL_MS);
      });
      ws.on("unexpected-response", (req, res) => {
        void refusal(res).then((failure) => {
          req.destroy();
          settle(failure);
        });
      });
      ws.on("error", (err) => {
        link.error ??= err.message;
        settle(lost(failureKind(err), err.message));
      });
      ws.on("close", (code, reason) => {
        stopTimers(link);
        if (!settled) settle(ended(link.error === SILENT ? "silent" : `closed ${code}`, code, reason.toString("utf8")));
        else if (this.link === link) {
          if (link.error === SILENT) this.opts.recorder.failure("live session dropped: gateway silent");
          this.dropped(code, reason.toString("utf8"));
        }
      });
      ws.on("message", (data, isBinary) => {
        link.lastHeard = Date.now();
        if (!isBinary) this.onText(link, text(data), (refused) => settle(ended(refused, 1000, refused)), settle);
      });
    });
  }

  private onText(link: Link, raw: string, refused: (why: string) => void, settle: (failure: null) => void): void {
    if (raw === SESSION_PONG) {
      this.pongsAt.push(Date.now());
      return;
    }
    const message = parseMessage(raw);
    if (message?.type === "welcome") {
      link.welcomedAt = this.openedAt = this.stateSentAt = Date.now();
      link.silenceLimitMs = message.silence_limit_ms;
      if (message.reconnect_window_ms !== undefined) this.backoff.useFirstWindow(message.reconnect_window_ms);
      this.keepAlive(link, message.ping_interval_ms > 0 ? message.ping_interval_ms : SESSION_PING_INTERVAL_MS);
      this.sendStateOn(link);
    } else if (message?.type === "state.ack") {
      if (link.stateRetry !== null) clearTimeout(link.stateRetry);
      link.stateRetry = null;
      // Passing refusals are waited out, as the agent does: the state goes again later on the same socket.
      if (!message.accepted && RETRYABLE_REFUSALS.has(message.code ?? "")) this.retryStateLater(link);
      else if (this.link !== link) {
        if (message.accepted) settle(null);
        else refused(`refused ${message.code ?? ""}`);
      } else this.ackWaiters.shift()?.(message);
    }
  }

  /** Sends the node's current state on `link`, and again every STATE_RETRY_MS until it is answered. */
  private sendStateOn(link: Link): void {
    link.sentState = JSON.stringify({ type: "state", models: MODELS, capacity: this.capacity });
    link.ws.send(link.sentState);
    this.retryStateLater(link);
  }

  private retryStateLater(link: Link): void {
    if (link.stateRetry !== null) clearTimeout(link.stateRetry);
    link.stateRetry = setTimeout(() => {
      link.stateRetry = null;
      if (link.sentState === null || link.ws.readyState !== WebSocket.OPEN) return;
      link.ws.send(link.sentState);
      this.retryStateLater(link);
    }, STATE_RETRY_MS);
  }

  private becameLive(link: Link, started: number): void {
    const now = Date.now();
    this.link = link;
    this.liveSince = now;
    this.opts.recorder.live(now, now - started);
  }

  /**
   * The agent's keep-alive: every interval it gives the socket up if nothing came for the silence limit (or no
   * welcome came in that long), and otherwise pings (unless the fleet has pings paused).
   */
  private keepAlive(link: Link, intervalMs: number): void {
    if (link.keepAlive !== null) clearInterval(link.keepAlive);
    link.keepAlive = setInterval(() => {
      const now = Date.now();
      const unwelcomedFor = link.welcomedAt === null ? now - link.dialledAt : 0;
      if (now - link.lastHeard >= link.silenceLimitMs || unwelcomedFor >= link.silenceLimitMs) {
        link.error = SILENT;
        link.ws.terminate();
        return;
      }
      if (this.opts.pings.paused || link.ws.readyState !== WebSocket.OPEN) return;
      link.ws.send(SESSION_PING);
      this.pingsSentAt.push(now);
    }, intervalMs);
  }

  private dropped(code: number, reason: string): void {
    const link = this.link;
    if (link) stopTimers(link);
    const openForMs = link?.welcomedAt == null ? 0 : Date.now() - link.welcomedAt;
    this.link = null;
    this.liveSince = null;
    this.droppedAt = Date.now();
    this.opts.recorder.dropped(code);
    for (const waiter of this.ackWaiters.splice(0)) waiter(null);
    if (this.stopped) return;
    const end: ConnectionEnd = { code, reason, refusal: null, error: link?.error ?? null, welcomed: true, openForMs };
    const delay = this.nextDelay(end);
    if (delay !== null) void this.connectUntilLive(delay, true);
  }
}

function stopTimers(link: Link): void {
  if (link.keepAlive !== null) clearInterval(link.keepAlive);
  if (link.stateRetry !== null) clearTimeout(link.stateRetry);
  link.keepAlive = link.stateRetry = null;
}

/** An upgrade the gateway answered with an HTTP error, read as the stock agent reads it (its status and code). */
async function refusal(res: IncomingMessage): Promise<Failure> {
  const refused = await readUpgradeRefusal(res);
  const kind = `http ${refused.status}${refused.code ? ` ${refused.code}` : ""}`;
  return { kind, end: { code: 1006, reason: "", refusal: refused, error: null, welcomed: false, openForMs: 0 } };
}
