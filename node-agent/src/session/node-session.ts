// Keeps a node's session with the gateway open: dials, and dials again after any close, with backoff, until the agent
// stops or another agent takes the node over. Requests that come down the session are answered by the agent's own
// HTTP server, which never listens on a port in this mode.
import type { Server } from "node:http";
import type { SessionState, SessionWelcome } from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";
import { errorMessage, type Logger } from "../log.js";
import { HEALTHY_SESSION_MS, ReconnectBackoff, type BackoffPolicy } from "./backoff.js";
import { nextStep, type NextStep } from "./close-policy.js";
import { sessionUrls, signedUpgradeHeaders } from "./connect-request.js";
import { SessionConnection, type ConnectionEnd, type KeepAliveTiming } from "./session-connection.js";

/** How long a clean close waits for the gateway's close frame before dropping the connection. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Knobs for tests and benchmarks; the defaults are the protocol's. */
export interface SessionTuning extends KeepAliveTiming {
  /** How long body chunks of one answer are held to go out together; 0 (the default): within the macrotask only. */
  coalesceMs?: number | undefined;
  backoff?: BackoffPolicy | undefined;
  /** A session open this long was healthy: the backoff starts over. */
  healthyAfterMs?: number | undefined;
  random?: (() => number) | undefined;
}

export interface NodeSessionOptions {
  gatewayUrl: string;
  /** From the gateway's metadata; the protocol's default when it names none. */
  sessionPath: string | undefined;
  /** The identity signing right now; it changes when the key is rotated. */
  identity: () => NodeIdentity;
  /** Rereads the key: the gateway says the one in use was rotated out. */
  onKeyRevoked: () => Promise<void>;
  /** The agent's HTTP server, which answers every relayed request. */
  server: Server;
  state: SessionState;
  log: Logger;
  tuning?: SessionTuning | undefined;
  now?: (() => number) | undefined;
  /**
   * Told true when the gateway accepted the node's state on an open session (the node is live through it), false
   * when that session ends or its state is refused.
   */
  onLive?: ((live: boolean) => void) | undefined;
}

/**
 * Node's HTTP server starts tracking its connections (the headers and request deadlines it enforces, and
 * closeAllConnections) when it starts listening. This one never listens, so it is told it does: the relayed requests'
 * in-memory connections then get the same deadlines as TCP ones (a request whose body never ends is answered 408).
 */
function trackInMemoryConnections(server: Server): void {
  server.emit("listening");
}

export class NodeSession {
  /** Resolves with the reason once this agent must stop serving for good: another agent took its node over. */
  readonly halted: Promise<string>;
  private resolveHalted: (reason: string) => void = () => {};
  private readonly backoff: ReconnectBackoff;
  private readonly now: () => number;
  private connection: SessionConnection | null = null;
  private retry: NodeJS.Timeout | null = null;
  private state: SessionState;
  private stopping = false;

  constructor(private readonly options: NodeSessionOptions) {
    this.halted = new Promise((resolve) => (this.resolveHalted = resolve));
    this.backoff = new ReconnectBackoff(options.tuning?.random, options.tuning?.backoff);
    this.now = options.now ?? Date.now;
    this.state = options.state;
    trackInMemoryConnections(options.server);
  }

  start(): void {
    void this.connect();
  }

  /** Tells the gateway what the node now serves (sent only if it differs from what the socket last carried). */
  setState(state: SessionState): void {
    this.state = state;
    this.connection?.sendState(state);
  }

  /** Stops dialling and refuses new requests; answers under way go on over the open socket. */
  drain(): void {
    this.stopping = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  /** Closes the socket cleanly (1000) and does not dial again; answers still under way are cut off. */
  async close(): Promise<void> {
    this.drain();
    const connection = this.connection;
    this.connection = null;
    await connection?.close(1000, "agent stopping", CLOSE_TIMEOUT_MS);
  }

  private async connect(): Promise<void> {
    this.retry = null;
    if (this.stopping) return;
    const { gatewayUrl, sessionPath, log } = this.options;
    const identity = this.options.identity();
    const urls = sessionUrls(gatewayUrl, sessionPath, identity.nodeId);
    let headers: Record<string, string>;
    try {
      headers = await signedUpgradeHeaders(identity, urls.signed, this.now());
    } catch (err) {
      log("could not sign the session request", { error: errorMessage(err) });
      return this.schedule(this.backoff.next());
    }
    if (this.stopping) return;
    const connection: SessionConnection = new SessionConnection({
      urls,
      headers,
      tunnel: {
        server: this.options.server,
        draining: () => this.stopping,
        coalesceMs: this.options.tuning?.coalesceMs,
      },
      timing: this.options.tuning ?? {},
      log,
      now: this.now,
      onWelcome: (welcome) => this.welcomed(connection, welcome),
      onStateAck: (accepted) => {
        if (connection === this.connection) this.options.onLive?.(accepted);
      },
      onEnd: (end) => void this.ended(connection, end),
    });
    this.connection = connection;
  }

  private welcomed(connection: SessionConnection, welcome: SessionWelcome): void {
    if (connection !== this.connection) return;
    const { log, gatewayUrl } = this.options;
    const nodeId = this.options.identity().nodeId;
    if (welcome.node_id !== nodeId)
      log("warning: the gateway's welcome names another node", { welcomed: welcome.node_id });
    log("session open", { node: nodeId, session: welcome.session, gateway: gatewayUrl });
    if (welcome.reconnect_window_ms !== undefined) this.backoff.useFirstWindow(welcome.reconnect_window_ms);
    if (welcome.replaced)
      log("this session replaced an earlier one of this node (this agent's own, or another agent's with this key)", {
        node: nodeId,
      });
    connection.sendState(this.state);
  }

  /** A socket closed: dial again (or not), unless it is one this agent already gave up. */
  private async ended(connection: SessionConnection, end: ConnectionEnd): Promise<void> {
    if (connection !== this.connection) return;
    this.connection = null;
    this.options.onLive?.(false);
    if (this.stopping) return;
    const step = nextStep(end);
    if (step.kind === "halt") return this.halt(step.why);
    if (step.reloadKey) await this.reloadKey();
    if (end.openForMs >= (this.options.tuning?.healthyAfterMs ?? HEALTHY_SESSION_MS)) this.backoff.reset();
    const delay = this.delayFor(step);
    this.options.log(step.why, { error: end.error ?? undefined, retry_in_ms: delay });
    this.schedule(delay);
  }

  private delayFor(step: Extract<NextStep, { kind: "reconnect" }>): number {
    if (step.wait === "now") return 0;
    return step.wait === "cap" ? this.backoff.atCap() : this.backoff.next();
  }

  private async reloadKey(): Promise<void> {
    try {
      await this.options.onKeyRevoked();
    } catch (err) {
      this.options.log("could not reload the node key", { error: errorMessage(err) });
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    // Not unref'd: in this mode, a pending reconnection is what keeps the agent's process alive.
    this.retry = setTimeout(() => void this.connect(), delayMs);
  }

  private halt(reason: string): void {
    this.options.log(reason, { node: this.options.identity().nodeId });
    this.drain();
    this.resolveHalted(reason);
  }
}
