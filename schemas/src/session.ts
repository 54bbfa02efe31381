// Node sessions: a node dials the gateway over WebSocket (no inbound port needed), and the gateway sends the node's
// requests down that socket. The upgrade request is signed with the node key like a heartbeat; once accepted, the
// socket is bound to that node id for its life, so nothing on it is signed again. Requests inside the session are the
// same RFC 9421-signed HTTP requests a node with a public URL gets: the node checks them exactly as it checks those.
//
// Two kinds of WebSocket message:
// - text: "ping"/"pong" keep-alives (answered by the gateway without waking anything), and JSON control messages;
// - binary: frames of relayed HTTP exchanges, [type: u8][stream: u32 big-endian][payload].
import { z } from "zod";
import { AdvertisedModelSchema, NodeIdSchema } from "./heartbeat.js";

/** `GET {SESSION_CONNECT_PATH}/{node id}` with `Upgrade: websocket`, signed by the node key (the id is covered). */
export const SESSION_CONNECT_PATH = "/v1/nodes/connect";

export function sessionConnectPath(nodeId: string): string {
  return `${SESSION_CONNECT_PATH}/${nodeId}`;
}

/**
 * The authority (and so the signed `@authority`) of every request the gateway sends through a session: it names no
 * host, since nothing is dialled. `.invalid` (RFC 2606) can never resolve.
 */
export const SESSION_AUTHORITY = "session.meshgate.invalid";
export const SESSION_ORIGIN = `https://${SESSION_AUTHORITY}`;

/** Keep-alives: the agent sends PING, the gateway's auto-response answers PONG without waking the session object. */
export const SESSION_PING = "ping";
export const SESSION_PONG = "pong";
/** How often an agent pings; the gateway says it again in its welcome. */
export const SESSION_PING_INTERVAL_MS = 5_000;
/** A session that has not pinged for this long is dead: the gateway closes it and routes nothing more to it. */
export const SESSION_SILENCE_LIMIT_MS = 15_000;
/**
 * How long an agent waits for its upgrade to be answered before it gives up and dials again. The gateway drops an
 * upgrade that waited longer than this before its turn: nobody is left to take the socket.
 */
export const SESSION_HANDSHAKE_TIMEOUT_MS = 10_000;
/** The default window an agent draws its first reconnect delay from after a session it held drops (the welcome's). */
export const SESSION_RECONNECT_WINDOW_MS = 2_000;

/** The largest payload of one binary frame; bodies are cut into frames of at most this size. */
export const MAX_FRAME_PAYLOAD_BYTES = 256 * 1024;
/** The largest text (JSON control) message either side accepts. */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024;
/** Bytes of answer body a node may send on one stream before the gateway grants more (CREDIT). */
export const STREAM_WINDOW_BYTES = 256 * 1024;
/** The most answer-head bytes (status and headers as JSON) the gateway reads. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** Close codes (4000-4999 are the application's, RFC 6455 §7.4.2) and what the agent does on each. */
export const SessionClose = {
  /** Another agent with this node's key connected: the older one stops and does not reconnect. */
  replaced: 4001,
  /** The node broke the protocol (a malformed frame, more body than granted): reconnect. */
  protocolError: 4002,
  /** The node was banned: reconnecting is refused until an operator lifts the ban. */
  banned: 4003,
  /** The key this session was opened with was rotated out: reconnect with the current key. */
  keyRotated: 4004,
  /** No keep-alive for SESSION_SILENCE_LIMIT_MS. */
  silent: 4008,
  /** The gateway is restarting or moving the session (standard 1012 "service restart"): reconnect. */
  restart: 1012,
} as const;

export const FrameType = {
  // gateway → node
  request: 1,
  requestBody: 2,
  requestEnd: 3,
  cancel: 4,
  credit: 5,
  // node → gateway
  response: 16,
  responseBody: 17,
  responseEnd: 18,
  responseError: 19,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const FRAME_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));
export const FRAME_HEADER_BYTES = 5;
/** Stream ids are positive u32s, chosen by the gateway. */
export const MAX_STREAM_ID = 0xffff_ffff;

export interface Frame {
  type: FrameType;
  stream: number;
  payload: Uint8Array;
}

export function encodeFrame(type: FrameType, stream: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, type);
  view.setUint32(1, stream);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Null for anything that is not a well-formed frame: too short, an unknown type, stream 0, too large a payload. */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  if (bytes.byteLength < FRAME_HEADER_BYTES || bytes.byteLength > FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES)
    return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0);
  const stream = view.getUint32(1);
  if (!FRAME_TYPES.has(type) || stream === 0) return null;
  return { type: type as FrameType, stream, payload: bytes.subarray(FRAME_HEADER_BYTES) };
}

/** A CREDIT payload: how many more body bytes the node may send on the stream. */
export function encodeCredit(bytes: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, bytes);
  return out;
}

export function decodeCredit(payload: Uint8Array): number | null {
  if (payload.byteLength !== 4) return null;
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

const HeaderListSchema = z.array(z.tuple([z.string().min(1).max(256), z.string().max(16 * 1024)])).max(64);

/** REQUEST payload (JSON): the signed request's head; its body follows in REQUEST_BODY frames, then REQUEST_END. */
export const RelayedRequestSchema = z.strictObject({
  method: z.literal("POST"),
  /** Path on the node, e.g. /v1/chat/completions. */
  path: z.string().startsWith("/").max(2048),
  headers: HeaderListSchema,
  /** The body's length in bytes, as signed (content-digest). */
  body_bytes: z.int().min(0),
});
export type RelayedRequest = z.infer<typeof RelayedRequestSchema>;

/** RESPONSE payload (JSON): the node's answer head; its body follows in RESPONSE_BODY frames, then RESPONSE_END. */
export const RelayedResponseSchema = z.strictObject({
  status: z.int().min(100).max(599),
  headers: HeaderListSchema,
});
export type RelayedResponse = z.infer<typeof RelayedResponseSchema>;

/** What a node tells its session when it connects and whenever it changes: what it serves, and how much at once. */
export const SessionStateSchema = z.strictObject({
  type: z.literal("state"),
  models: z.array(AdvertisedModelSchema).max(256),
  capacity: z.int().min(1).max(100_000),
  /**
   * The public URL this node also answers at; it must be the one its heartbeats registered and the gateway proved.
   * Such a node keeps direct dispatch while its session carries its liveness (its heartbeats may pause). The gateway
   * never takes a URL from a session: a URL it names is kept only if it is already the node's registered one.
   */
  url: z.string().max(2048).optional(),
});
export type SessionState = z.infer<typeof SessionStateSchema>;

/** Messages a node sends as text, besides pings. */
export const NodeMessageSchema = z.discriminatedUnion("type", [SessionStateSchema]);
export type NodeMessage = z.infer<typeof NodeMessageSchema>;

/** Sent once the session is accepted. */
export const SessionWelcomeSchema = z.object({
  type: z.literal("welcome"),
  node_id: NodeIdSchema,
  /** Rises with every session the node opens; a close of an older session never ends a newer one. */
  session: z.int().min(1),
  /** True when this session replaced a live one (another agent with the same key, or this agent's own older socket). */
  replaced: z.boolean(),
  ping_interval_ms: z.int(),
  silence_limit_ms: z.int(),
  /**
   * After a session it held drops, the agent waits a uniform random time below this before dialling again, doubling
   * it after each failure: the gateway spreads a whole fleet's reconnects (a restart drops every session at once).
   */
  reconnect_window_ms: z.int().min(0).max(300_000).optional(),
});
export type SessionWelcome = z.infer<typeof SessionWelcomeSchema>;

/** The gateway accepted (or refused) the node's latest state. Only an accepted state is routed by. */
export const SessionStateAckSchema = z.object({
  type: z.literal("state.ack"),
  accepted: z.boolean(),
  /** Refused: why, as an OpenAI-style error code and message. */
  code: z.string().optional(),
  message: z.string().optional(),
});
export type SessionStateAck = z.infer<typeof SessionStateAckSchema>;

export const GatewayMessageSchema = z.discriminatedUnion("type", [SessionWelcomeSchema, SessionStateAckSchema]);
export type GatewayMessage = z.infer<typeof GatewayMessageSchema>;
