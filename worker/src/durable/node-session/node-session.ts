import { DurableObject } from "cloudflare:workers";
import {
  decodeFrame,
  MAX_CONTROL_MESSAGE_BYTES,
  NodeMessageSchema,
  SESSION_PING,
  SESSION_HANDSHAKE_TIMEOUT_MS,
  SESSION_PING_INTERVAL_MS,
  SESSION_PONG,
  SessionClose,
  type PriceCeilings,
  type SessionState,
  type SessionStateAck,
  type SessionWelcome,
} from "@meshgate/schemas";
import { parsePriceCeilings, priceOverCeiling, priceOverCeilingMessage } from "../../billing/price-ceiling.js";
import {
  sessionReconnectGraceMs,
  sessionReconnectWindowMs,
  sessionSilenceLimitMs,
} from "../../limits/session-timing.js";
import { nodeRegistry } from "../names.js";
import { BUSY_REASON, isOverloaded } from "../../lib/overloaded.js";
import type {
  Refusal,
  SessionOpenResult,
  SessionResume,
  SessionStateResult,
  SessionStateUpdate,
  VerifiedNodeSignature,
} from "../node-registry/types.js";
import { ProtocolError, relayFailure, SessionRelays } from "./relays.js";

/** What the Worker hands the session when a node dials in, after it verified the upgrade's signature. */
export interface SessionOpening {
  nodeId: string;
  signature: VerifiedNodeSignature;
  /** The registration source (limits/new-identities.ts) of the connecting address. */
  source: string;
  now: number;
}

/** The internal header that carries a SessionOpening from the Worker to the object (never from outside). */
export const SESSION_OPENING_HEADER = "x-meshgate-session-opening";

/** Kept on each socket, so it survives the object's hibernation. */
interface SocketRecord {
  nodeId: string;
  session: number;
  openedAt: number;
  /** When the node signed the upgrade that opened this socket: what orders two agents' claims to the node. */
  signedAt?: number; // absent on sockets opened before it was kept
  /** The capacity of the node's accepted state; 0 until one is accepted (nothing is relayed before). */
  capacity: number;
  /** The state the registry holds for this session (stateKey), or null: a state sent again is not sent on. */
  registered?: string | null;
}

/** Where the object keeps the node's last accepted state (SessionStateUpdate), across restarts. */
const ACCEPTED_STATE_KEY = "accepted_state";

/**
 * One node's session: the WebSocket the node dialled in on (held with the Hibernation API, so an idle session costs
 * nothing), its keep-alives (answered by the runtime without waking the object), its state (passed to the registry
 * only when it changes), and the requests relayed to it. One object per node id: no object hears every node.
 */
export class NodeSession extends DurableObject<Env> {
  private opening: Promise<unknown> = Promise.resolve();
  /** The latest signature among the upgrades that reached this object since it started. */
  private newestUpgrade = 0;
  /** The relays of the current socket; they live only while requests are in flight, so never across hibernation. */
  private relays: { session: number; relays: SessionRelays } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(SESSION_PING, SESSION_PONG));
  }

  override async fetch(request: Request): Promise<Response> {
    const opening = request.headers.get(SESSION_OPENING_HEADER);
    if (opening !== null) return this.open(JSON.parse(opening) as SessionOpening);
    return this.relay(request);
  }

  /** Closes the node's session at once (a ban, a rotated-out key); the node is told why. */
  async end(code: number, reason: string): Promise<void> {
    const socket = this.current();
    if (!socket) return;
    this.closeSocket(socket.ws, code, reason);
    await this.ended(socket.record, reason);
  }

  /** Live sessions of this node held now (0 or 1), for tests and the admin view. */
  sessions(): number {
    return this.ctx.getWebSockets().length;
  }

  /** Opens run one at a time, each deciding against the sockets the one before left; relays and pings do not wait. */
  private open(opening: SessionOpening): Promise<Response> {
    this.newestUpgrade = Math.max(this.newestUpgrade, opening.signature.createdAt);
    const opened = this.opening.then(() => this.openSocket(opening));
    this.opening = opened.catch(() => undefined);
    return opened;
  }

  private async openSocket(opening: SessionOpening): Promise<Response> {
    const signedAt = opening.signature.createdAt;
    // In a herd an agent's abandoned upgrades queue here before its newest one: each is settled without the registry.
    const latest = Math.max(this.liveSignature(), this.newestUpgrade);
    if (latest > signedAt) return refused(supersededRefusal(latest, signedAt));
    if (Date.now() - opening.now > SESSION_HANDSHAKE_TIMEOUT_MS) return refused(abandonedRefusal());
    const session = this.nextSession(opening.nodeId, opening.now);
    const resume = this.resumable(session);
    const { nodeId, signature } = opening;
    const result = await this.registerOpening(opening, resume);
    if (!result.ok) return refused(result.refusal);
    const resumed = result.live && resume ? resume.state : null;
    const previous = this.ctx.getWebSockets();
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    const record: SocketRecord = {
      nodeId,
      session,
      openedAt: Date.now(),
      signedAt: signature.createdAt,
      capacity: resumed?.capacity ?? 0,
      registered: resumed ? stateKey(resumed) : null,
    };
    server.serializeAttachment(record);
    for (const old of previous) {
      this.closeSocket(old, SessionClose.replaced, "another agent with this node's key connected to the gateway");
      this.failRelays(recordOf(old).session, "the session was replaced");
    }
    server.send(JSON.stringify(this.welcome(nodeId, session, previous.length > 0)));
    await this.ctx.storage.setAlarm(Date.now() + sessionSilenceLimitMs(this.env));
    return new Response(null, { status: 101, webSocket: client });
  }

  private async registerOpening(opening: SessionOpening, resume: SessionResume | null): Promise<SessionOpenResult> {
    const { nodeId, signature, now, source } = opening;
    try {
      return await nodeRegistry(this.env).openSession(nodeId, signature, now, source, resume);
    } catch (err) {
      return { ok: false, refusal: busyRefusal(err) };
    }
  }

  private welcome(nodeId: string, session: number, replaced: boolean): SessionWelcome {
    return {
      type: "welcome",
      node_id: nodeId,
      session,
      replaced,
      ping_interval_ms: SESSION_PING_INTERVAL_MS,
      silence_limit_ms: sessionSilenceLimitMs(this.env),
      reconnect_window_ms: sessionReconnectWindowMs(this.env),
    };
  }

  /**
   * The state this node last had accepted, offered to the registry with the new session: a reconnecting node is live
   * again in one registry call, and the state its agent sends on connect is acknowledged here when it is the same.
   */
  private resumable(session: number): SessionResume | null {
    const state = this.ctx.storage.kv.get<SessionStateUpdate>(ACCEPTED_STATE_KEY);
    // The ceilings may have fallen since it was accepted: then the node must say again what it charges.
    if (!state || priceOverCeiling(state.models, this.priceCeilings())) return null;
    return { session, state };
  }

  private priceCeilings(): PriceCeilings {
    const ceilings = parsePriceCeilings(this.env.PRICE_CEILINGS);
    if ("error" in ceilings) throw new Error(ceilings.error);
    return ceilings;
  }

  /**
   * When the live socket's upgrade was signed (0 without one). An upgrade signed earlier reaches the object late
   * because its agent gave up waiting (a reconnect herd) and dialled again; taking the node over with it would close
   * the agent's newer, working session with "replaced" and stop the agent. Two agents sharing a key still replace
   * each other: the later signer wins. Kept on the sockets, so it holds across the object's restarts.
   */
  private liveSignature(): number {
    let latest = 0;
    for (const ws of this.ctx.getWebSockets())
      if (ws.readyState === WebSocket.OPEN) latest = Math.max(latest, recordOf(ws).signedAt ?? 0);
    return latest;
  }

  /** Session numbers only rise, across restarts: the registry never lets an older session's word stand. */
  private nextSession(nodeId: string, now: number): number {
    const kv = this.ctx.storage.kv;
    const session = Math.max((kv.get<number>("session") ?? 0) + 1, now);
    kv.put("session", session);
    kv.put("node_id", nodeId);
    return session;
  }

  private async relay(request: Request): Promise<Response> {
    const socket = this.current();
    if (!socket) {
      await this.reportClosedIfOpen();
      return relayFailure(503, "node_not_connected", "The node's session is closed.");
    }
    const { ws, record } = socket;
    // A socket whose node fell silent is found dead here, before a request is lost to it, not only by the next sweep.
    if (Date.now() - this.lastHeard(ws, record) >= sessionSilenceLimitMs(this.env)) {
      await this.silenced(ws, record);
      return relayFailure(503, "node_not_connected", "The node's session went silent.");
    }
    if (record.capacity === 0) return relayFailure(503, "node_not_ready", "The node has not said what it serves.");
    const relays = this.relaysOf(ws, record);
    // Exact at this node whatever the number of gateway isolates: a full node is refused here, without a round trip.
    if (relays.open >= record.capacity) {
      const full = relayFailure(429, "node_at_capacity", `The node is serving its capacity of ${record.capacity}.`);
      full.headers.set("retry-after", "1");
      return full;
    }
    const body = new Uint8Array(await request.arrayBuffer());
    const headers: [string, string][] = [["host", new URL(request.url).host]];
    for (const [name, value] of request.headers) if (!name.startsWith("cf-")) headers.push([name, value]);
    return relays.relay({ path: new URL(request.url).pathname, headers, body }, request.signal);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const record = recordOf(ws);
    if (record.session !== this.current()?.record.session) return;
    if (typeof message === "string") return this.control(ws, record, message);
    const frame = decodeFrame(new Uint8Array(message));
    try {
      if (!frame) throw new ProtocolError("malformed frame");
      this.relays?.relays.receive(frame);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.closeSocket(ws, SessionClose.protocolError, err.message);
      await this.ended(record, `the node broke the protocol: ${err.message}`);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    if (code === 1000) return this.ended(recordOf(ws), "the node closed its session");
    await this.dropped(recordOf(ws), "the node's session dropped");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.dropped(recordOf(ws), "the node's session failed");
  }

  /**
   * The socket broke without its agent closing it (a network blip, a gateway restart): the agent is dialling again.
   * Its relays fail now; the registry hears of it only if no new socket opens within the grace (the alarm).
   */
  private async dropped(record: SocketRecord, reason: string): Promise<void> {
    this.failRelays(record.session, reason);
    if (!this.current()) await this.ctx.storage.setAlarm(Date.now() + sessionReconnectGraceMs(this.env));
  }

  /**
   * Every silence limit (limits/session-timing.ts) or so while a socket is open: a node whose keep-alives stopped is
   * closed. With no socket left (dropped and not back within the grace, or lost while the object was gone in a
   * restart), the registry is told the node is not live.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const limit = sessionSilenceLimitMs(this.env);
    let next = Number.POSITIVE_INFINITY;
    for (const ws of this.ctx.getWebSockets()) {
      const record = recordOf(ws);
      const heard = this.lastHeard(ws, record);
      if (now - heard < limit) next = Math.min(next, heard + limit);
      else await this.silenced(ws, record);
    }
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next + 100);
    else await this.reportClosedIfOpen();
  }

  /** The last keep-alive the runtime answered on this socket (or when it opened). */
  private lastHeard(ws: WebSocket, record: SocketRecord): number {
    return Math.max(this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0, record.openedAt);
  }

  private async silenced(ws: WebSocket, record: SocketRecord): Promise<void> {
    this.closeSocket(ws, SessionClose.silent, "no keep-alive within the silence limit");
    await this.ended(record, "the node went silent");
  }

  private async control(ws: WebSocket, record: SocketRecord, text: string): Promise<void> {
    if (text.length > MAX_CONTROL_MESSAGE_BYTES) {
      this.closeSocket(ws, SessionClose.protocolError, "control message too large");
      return this.ended(record, "the node broke the protocol");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = NodeMessageSchema.safeParse(value);
    if (!parsed.success) return ack(ws, { accepted: false, code: "invalid_message", message: parsed.error.message });
    await this.acceptState(ws, record, parsed.data);
  }

  private async acceptState(ws: WebSocket, record: SocketRecord, state: SessionState): Promise<void> {
    const over = priceOverCeiling(state.models, this.priceCeilings());
    if (over) return ack(ws, { accepted: false, code: "price_above_ceiling", message: priceOverCeilingMessage(over) });
    const update: SessionStateUpdate = { models: state.models, capacity: state.capacity, url: state.url };
    const key = stateKey(update);
    if (record.registered !== key) {
      const result = await this.registerState(record, update);
      if (!result.ok) return this.stateRefused(ws, record, result.refusal);
      this.ctx.storage.kv.put(ACCEPTED_STATE_KEY, update);
    }
    // The socket may have been replaced while the registry answered: then this record is no longer current.
    const current = this.current();
    if (current?.record.session !== record.session) return;
    ws.serializeAttachment({ ...current.record, capacity: state.capacity, registered: key });
    ack(ws, { accepted: true });
  }

  /** The registry's answer; an overloaded registry is a passing refusal the agent retries, not a broken socket. */
  private async registerState(record: SocketRecord, update: SessionStateUpdate): Promise<SessionStateResult> {
    try {
      return await nodeRegistry(this.env).sessionState(record.nodeId, record.session, update, Date.now());
    } catch (err) {
      return { ok: false, refusal: busyRefusal(err) };
    }
  }

  private async stateRefused(ws: WebSocket, record: SocketRecord, refusal: Refusal): Promise<void> {
    ack(ws, refusedAck(refusal));
    if (refusal.code !== "node_banned") return;
    this.closeSocket(ws, SessionClose.banned, refusal.message.slice(0, 120));
    await this.ended(record, "the node is banned");
  }

  /** The newest open socket and its record; older ones are being closed. */
  private current(): { ws: WebSocket; record: SocketRecord } | null {
    let newest: { ws: WebSocket; record: SocketRecord } | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const record = recordOf(ws);
      if (!newest || record.session > newest.record.session) newest = { ws, record };
    }
    return newest;
  }

  private relaysOf(ws: WebSocket, record: SocketRecord): SessionRelays {
    if (this.relays?.session !== record.session)
      this.relays = { session: record.session, relays: new SessionRelays((message) => ws.send(message)) };
    return this.relays.relays;
  }

  private failRelays(session: number, reason: string): void {
    if (this.relays?.session !== session) return;
    this.relays.relays.failAll(reason);
    this.relays = null;
  }

  /** A socket ended: its relays fail, and if it was the node's newest session the node is no longer live. */
  private async ended(record: SocketRecord, reason: string): Promise<void> {
    this.failRelays(record.session, reason);
    if (this.current()) return;
    await nodeRegistry(this.env).sessionClosed(record.nodeId, record.session, Date.now());
  }

  private async reportClosedIfOpen(): Promise<void> {
    const nodeId = this.ctx.storage.kv.get<string>("node_id");
    const session = this.ctx.storage.kv.get<number>("session");
    if (nodeId === undefined || session === undefined) return;
    await nodeRegistry(this.env).sessionClosed(nodeId, session, Date.now());
  }

  private closeSocket(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }
}

function recordOf(ws: WebSocket): SocketRecord {
  return ws.deserializeAttachment() as SocketRecord;
}

function ack(ws: WebSocket, result: Omit<SessionStateAck, "type">): void {
  const message: SessionStateAck = { type: "state.ack", ...result };
  try {
    ws.send(JSON.stringify(message));
  } catch {
    // The socket closed meanwhile.
  }
}

function refused(refusal: Refusal): Response {
  return Response.json({ refusal }, { status: refusal.status });
}

function supersededRefusal(laterSignedAt: number, signedAt: number): Refusal {
  return {
    status: 409,
    code: "session_superseded",
    message:
      `an upgrade of this node signed at ${new Date(laterSignedAt).toISOString()} reached the gateway, ` +
      `after this one's signature (${new Date(signedAt).toISOString()})`,
  };
}

/** The upgrade waited past the agent's handshake timeout: the agent has given up on it and dialled again. */
function abandonedRefusal(): Refusal {
  return { status: 503, code: "gateway_busy", message: `${BUSY_REASON}; dial again`, retryAfterSeconds: 1 };
}

/** One spelling of a state, to tell a state sent again from a changed one. */
function stateKey(state: SessionStateUpdate): string {
  return JSON.stringify({ models: state.models, capacity: state.capacity, url: state.url });
}

/** A reconnect herd can overload the registry: the node is told to retry, anything else is rethrown. */
function busyRefusal(err: unknown): Refusal {
  if (!isOverloaded(err)) throw err;
  return { status: 503, code: "gateway_busy", message: BUSY_REASON, retryAfterSeconds: 1 };
}

function refusedAck(refusal: Refusal): Omit<SessionStateAck, "type"> {
  return { accepted: false, code: refusal.code, message: refusal.message };
}
