// The relayed exchanges of one session socket, by stream id: reads the gateway's binary frames and hands each to its
// exchange. Every request is checked by the agent's server as any other (the socket is the gateway's, but what comes
// down it is trusted only once its signature verifies); this only refuses frames that break the protocol.
import type { Server } from "node:http";
import {
  decodeCredit,
  decodeFrame,
  encodeFrame,
  FrameType,
  RelayedRequestSchema,
  utf8,
  type Frame,
  type RelayedRequest,
} from "@meshgate/schemas";
import { memorySocketPair } from "./memory-socket.js";
import { RelayedExchange, type ExchangeContext } from "./relayed-exchange.js";

export interface TunnelOptions {
  /** The agent's HTTP server; it is handed one in-memory connection per relayed request. */
  server: Server;
  /** Sends one encoded frame down the socket. */
  send(frame: Uint8Array): void;
  /** True once the agent is stopping: new requests are refused, answers under way go on. */
  draining(): boolean;
  coalesceMs?: number | undefined;
}

/** Why a frame broke the protocol: the socket cannot be trusted to be in step any more. */
export class ProtocolError extends Error {}

const GATEWAY_FRAMES: ReadonlySet<number> = new Set([
  FrameType.request,
  FrameType.requestBody,
  FrameType.requestEnd,
  FrameType.cancel,
  FrameType.credit,
]);

function parseRequestHead(payload: Uint8Array): RelayedRequest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new ProtocolError("a request head that is not JSON");
  }
  const parsed = RelayedRequestSchema.safeParse(value);
  if (!parsed.success) throw new ProtocolError("a malformed request head");
  return parsed.data;
}

export class Tunnel {
  private readonly exchanges = new Map<number, RelayedExchange>();
  private readonly context: ExchangeContext;

  constructor(private readonly options: TunnelOptions) {
    this.context = {
      connect: () => {
        const [client, server] = memorySocketPair();
        options.server.emit("connection", server);
        return client;
      },
      send: (frame) => options.send(frame),
      finished: (stream) => this.exchanges.delete(stream),
      coalesceMs: options.coalesceMs,
    };
  }

  /** Exchanges under way. */
  get size(): number {
    return this.exchanges.size;
  }

  /** One binary message from the gateway; throws ProtocolError when it is not a frame the gateway may send. */
  receive(message: Uint8Array): void {
    const frame = decodeFrame(message);
    if (!frame || !GATEWAY_FRAMES.has(frame.type)) throw new ProtocolError("a malformed frame");
    if (frame.type === FrameType.request) {
      this.open(frame);
      return;
    }
    // A stream that finished (or never was) is not an error: the gateway may not know yet.
    const exchange = this.exchanges.get(frame.stream);
    switch (frame.type) {
      case FrameType.requestBody:
        exchange?.write(frame.payload);
        break;
      case FrameType.requestEnd:
        exchange?.end();
        break;
      case FrameType.cancel:
        exchange?.drop();
        break;
      case FrameType.credit: {
        const bytes = decodeCredit(frame.payload);
        if (bytes === null) throw new ProtocolError("a malformed credit frame");
        exchange?.grant(bytes);
        break;
      }
    }
  }

  /** The socket closed: nothing can be answered on it any more, so every exchange is dropped. */
  dropAll(): void {
    for (const exchange of [...this.exchanges.values()]) exchange.drop();
  }

  private open(frame: Frame): void {
    if (this.exchanges.has(frame.stream)) throw new ProtocolError("a second request on a stream in use");
    const head = parseRequestHead(frame.payload);
    if (this.options.draining()) {
      this.options.send(encodeFrame(FrameType.responseError, frame.stream, utf8("the node is shutting down")));
      return;
    }
    const exchange = new RelayedExchange(frame.stream, head, this.context);
    this.exchanges.set(frame.stream, exchange);
    exchange.start();
  }
}
