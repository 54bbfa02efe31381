// Plays a node agent's side of a session in the Workers runtime: opens the signed upgrade, keeps what the gateway
// sends, and answers relayed requests with frames the test chooses.
import { SELF } from "cloudflare:test";
import {
  decodeFrame,
  encodeFrame,
  FrameType,
  GatewayMessageSchema,
  SESSION_PONG,
  sessionConnectPath,
  utf8,
  type Frame,
  type GatewayMessage,
  type Signer,
} from "@meshgate/schemas";
import { signSessionUpgrade } from "@meshgate/schemas/testing";
import { BASE, type TestNode } from "./helpers.js";

export interface UpgradeOptions {
  now?: number;
  signer?: Signer;
  publicKey?: string;
  /** The node id in the path; the node's own by default. */
  pathNodeId?: string;
  /** Headers to send instead of freshly signed ones (a replay). */
  headers?: Headers;
}

export async function upgradeHeaders(node: TestNode, opts: UpgradeOptions = {}): Promise<Headers> {
  const headers =
    opts.headers ??
    (await signSessionUpgrade({
      url: `${BASE}${sessionConnectPath(opts.pathNodeId ?? node.id)}`,
      signer: opts.signer ?? node.signer,
      publicKey: opts.publicKey ?? node.publicKey,
      now: opts.now,
    }));
  const sent = new Headers(headers);
  sent.set("upgrade", "websocket");
  return sent;
}

export function sendUpgrade(node: TestNode, headers: Headers, pathNodeId = node.id): Promise<Response> {
  return SELF.fetch(`${BASE}${sessionConnectPath(pathNodeId)}`, { headers });
}

/** One side of an accepted session: every message the gateway sent, and ways to wait for the next. */
export class SessionPeer {
  readonly messages: GatewayMessage[] = [];
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | null = null;
  pongs = 0;
  private reading: Promise<void> = Promise.resolve();
  private sending: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") {
        if (event.data === SESSION_PONG) this.pongs++;
        else {
          const parsed = GatewayMessageSchema.safeParse(JSON.parse(event.data));
          if (parsed.success) this.messages.push(parsed.data);
        }
      } else {
        // Binary messages reach a client socket as Blobs here; read in order, so frames keep theirs.
        const data = event.data as Blob | ArrayBuffer;
        this.reading = this.reading.then(async () => {
          const frame = decodeFrame(new Uint8Array(data instanceof Blob ? await data.arrayBuffer() : data));
          if (frame) this.frames.push(frame);
          this.notify();
        });
        return;
      }
      this.notify();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.notify();
    });
  }

  static async open(node: TestNode, opts: UpgradeOptions = {}): Promise<SessionPeer> {
    const res = await sendUpgrade(node, await upgradeHeaders(node, opts));
    if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
    return new SessionPeer(res.webSocket);
  }

  /** Opens a session and has its state accepted: the node is live and routed to through it. */
  static async live(node: TestNode, models = ["test-model"], capacity = 4): Promise<SessionPeer> {
    const peer = await SessionPeer.open(node);
    await peer.until(() => peer.messages.some((m) => m.type === "welcome"));
    peer.ws.send(JSON.stringify({ type: "state", models: models.map((id) => ({ id })), capacity }));
    const ack = await peer.next((m) => m.type === "state.ack");
    if (ack.type !== "state.ack" || !ack.accepted) throw new Error(`state refused: ${JSON.stringify(ack)}`);
    return peer;
  }

  async until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the gateway");
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** The first message (from `from` on) that matches. */
  async next(match: (m: GatewayMessage) => boolean, from = 0): Promise<GatewayMessage> {
    await this.until(() => this.messages.slice(from).some(match));
    return this.messages.slice(from).find(match)!;
  }

  async frame(match: (f: Frame) => boolean): Promise<Frame> {
    await this.until(() => this.frames.some(match));
    return this.frames.find(match)!;
  }

  /**
   * Sends one frame. Here the peer's socket is the in-process end of the session's WebSocketPair, which was seen to
   * deliver messages sent within a millisecond of each other out of order (a real agent's socket, over TCP, keeps
   * order: measured with 200 concurrent 170-frame answers, and tools/e2e streams 2,000 chunks), so sends are spaced.
   */
  send(type: FrameType, stream: number, payload?: Uint8Array | string): Promise<void> {
    const bytes = typeof payload === "string" ? utf8(payload) : payload;
    this.sending = this.sending.then(async () => {
      // The gateway may close the session mid-way (a test of a protocol breach): the rest is not sent.
      if (this.closed) return;
      this.ws.send(encodeFrame(type, stream, bytes));
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    return this.sending;
  }

  /** Answers stream `stream` with a head, the given body chunks and an end. */
  answer(stream: number, status: number, headers: [string, string][], chunks: string[]): Promise<void> {
    void this.send(FrameType.response, stream, JSON.stringify({ status, headers }));
    for (const chunk of chunks) void this.send(FrameType.responseBody, stream, chunk);
    return this.send(FrameType.responseEnd, stream);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
