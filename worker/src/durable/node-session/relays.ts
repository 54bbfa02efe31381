// The HTTP exchanges relayed over one session socket: a signed request goes down as frames, the node's answer comes
// back as a streamed Response. The node may send at most a window of body bytes ahead of what the gateway has read
// (credit), so a slow client slows the node instead of filling the gateway's memory. Everything the node sends is
// checked here: a frame out of order, a bad head or more body than granted breaks the protocol and ends the session.
import {
  encodeCredit,
  encodeFrame,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  MAX_HEAD_BYTES,
  MAX_STREAM_ID,
  RelayedResponseSchema,
  STREAM_WINDOW_BYTES,
  utf8,
  type Frame,
  type RelayedRequest,
} from "@meshgate/schemas";

export interface RelayRequest {
  path: string;
  headers: [string, string][];
  body: Uint8Array;
}

/** The node broke the protocol: the session is closed with SessionClose.protocolError and this message. */
export class ProtocolError extends Error {}

/** Credit is returned once this much of the window has been read, not per chunk: fewer frames. */
const CREDIT_STEP_BYTES = STREAM_WINDOW_BYTES / 4;

interface PendingHead {
  resolve(response: Response): void;
}

/** An answer the relay gives in the node's place when the exchange fails before the node's own head. */
/**
 * Set on an answer the session made itself because it could not relay (never on a node's answer, whose headers
 * cannot carry it): its value is the error code, e.g. node_not_connected.
 */
export const RELAY_FAILURE_HEADER = "x-meshgate-relay-failure";

export function relayFailure(status: number, code: string, message: string): Response {
  return Response.json(
    { error: { message, type: "api_error", param: null, code } },
    { status, headers: { [RELAY_FAILURE_HEADER]: code } },
  );
}

/** One relayed exchange: its head until it comes, then its body bytes until the consumer reads them. */
class Exchange {
  head: PendingHead | null;
  private readonly queue: Uint8Array[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private failure: Error | null = null;
  /** Body bytes the node may send in all: the window plus every credit granted. */
  private granted = STREAM_WINDOW_BYTES;
  private received = 0;
  private consumed = 0;
  private credited = 0;

  constructor(
    head: PendingHead,
    private readonly grant: (bytes: number) => void,
  ) {
    this.head = head;
  }

  /** The node's body bytes; more than granted breaks the protocol. */
  push(bytes: Uint8Array): void {
    this.received += bytes.byteLength;
    if (this.received > this.granted) throw new ProtocolError("the node sent more answer than it was granted");
    this.queue.push(bytes);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /**
   * Before the answer's head, whoever waits gets `failed` (an error the node never sent, so nobody is left with an
   * unhandled rejection); after it, the body breaks off.
   */
  fail(error: Error, failed: Response): void {
    if (this.head) {
      this.head.resolve(failed);
      this.head = null;
      return;
    }
    this.failure = error;
    this.notify();
  }

  /** The answer's body, read by the gateway as the client takes it: each read returns credit to the node. */
  body(onCancel: () => void): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      { pull: (controller) => this.pull(controller), cancel: onCancel },
      { highWaterMark: 0 },
    );
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    while (this.queue.length === 0 && !this.ended && !this.failure)
      await new Promise<void>((resolve) => (this.wake = resolve));
    const chunk = this.queue.shift();

    if (chunk) {
      controller.enqueue(chunk);
      this.consumed += chunk.byteLength;
      if (this.consumed - this.credited >= CREDIT_STEP_BYTES && !this.ended) {
        this.grant(this.consumed - this.credited);
        this.granted += this.consumed - this.credited;
        this.credited = this.consumed;
      }
    } else if (this.failure) controller.error(this.failure);
    else controller.close();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function headersOf(list: [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of list) {
    // Only the session itself says it could not relay: a node's answer cannot pass for that.
    if (name.toLowerCase() === RELAY_FAILURE_HEADER) continue;
    try {
      headers.append(name, value);
    } catch {
      // A name or value Headers refuses is dropped, as a proxy drops a malformed header line.
    }
  }
  return headers;
}

function parseHead(payload: Uint8Array): { status: number; headers: Headers } {
  if (payload.byteLength > MAX_HEAD_BYTES) throw new ProtocolError("the answer head is too large");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new ProtocolError("the answer head is not JSON");
  }
  const head = RelayedResponseSchema.safeParse(value);
  // 1xx are never a final answer, and 204/205/304 could not carry the body frames that may follow.
  if (!head.success || head.data.status < 200 || [204, 205, 304].includes(head.data.status))
    throw new ProtocolError("the answer head is malformed");
  return { status: head.data.status, headers: headersOf(head.data.headers) };
}

export class SessionRelays {
  private readonly exchanges = new Map<number, Exchange>();
  private nextStream = 1;

  /** `send` puts one binary message on the session socket. */
  constructor(private readonly send: (message: Uint8Array) => void) {}

  /** Exchanges the node is still answering (its head or body still to come). */
  get open(): number {
    return this.exchanges.size;
  }

  /** Sends the request down the session; resolves with the node's answer once its head arrives. */
  relay(request: RelayRequest, signal: AbortSignal): Promise<Response> {
    const stream = this.allocateStream();
    const answered = new Promise<Response>((resolve) => {
      this.exchanges.set(stream, new Exchange({ resolve }, (bytes) => this.grant(stream, bytes)));
    });
    const head: RelayedRequest = {
      method: "POST",
      path: request.path,
      headers: request.headers,
      body_bytes: request.body.byteLength,
    };
    this.send(encodeFrame(FrameType.request, stream, utf8(JSON.stringify(head))));
    for (let at = 0; at < request.body.byteLength; at += MAX_FRAME_PAYLOAD_BYTES)
      this.send(encodeFrame(FrameType.requestBody, stream, request.body.subarray(at, at + MAX_FRAME_PAYLOAD_BYTES)));
    this.send(encodeFrame(FrameType.requestEnd, stream));
    if (signal.aborted) this.cancel(stream, "the gateway stopped waiting");
    else signal.addEventListener("abort", () => this.cancel(stream, "the gateway stopped waiting"), { once: true });
    return answered;
  }

  /** A frame from the node. Throws ProtocolError when the node broke the protocol. */
  receive(frame: Frame): void {
    const exchange = this.exchanges.get(frame.stream);
    // Frames of an exchange already cancelled or ended arrive late in the normal course: ignored.
    if (!exchange) {
      if (frame.type < FrameType.response) throw new ProtocolError("the node sent a gateway frame");
      return;
    }
    switch (frame.type) {
      case FrameType.response:
        this.answer(frame.stream, exchange, frame.payload);
        break;
      case FrameType.responseBody:
        if (exchange.head) throw new ProtocolError("the node sent answer body before its head");
        exchange.push(frame.payload);
        break;
      case FrameType.responseEnd:
        if (exchange.head) throw new ProtocolError("the node ended an answer it never began");
        this.exchanges.delete(frame.stream);
        exchange.end();
        break;
      case FrameType.responseError:
        this.exchanges.delete(frame.stream);
        this.failed(exchange, 502, "node_failed", `the node failed: ${new TextDecoder().decode(frame.payload)}`);
        break;
      default:
        throw new ProtocolError("the node sent a gateway frame");
    }
  }

  /** The session ended: every exchange fails (an answer already streaming breaks off). */
  failAll(reason: string): void {
    for (const exchange of this.exchanges.values()) this.failed(exchange, 502, "node_session_closed", reason);
    this.exchanges.clear();
  }

  private answer(stream: number, exchange: Exchange, payload: Uint8Array): void {
    const head = exchange.head;
    if (!head) throw new ProtocolError("the node sent a second answer head");
    const { status, headers } = parseHead(payload);
    exchange.head = null;
    head.resolve(
      new Response(
        exchange.body(() => this.cancel(stream, "the client stopped reading")),
        { status, headers },
      ),
    );
  }

  /** The gateway gives up on an exchange: the node is told to stop it, and whoever waits on it gets an error. */
  private cancel(stream: number, reason: string): void {
    const exchange = this.exchanges.get(stream);
    if (!exchange) return;
    this.exchanges.delete(stream);
    // 499: nobody reads this answer any more (nginx's "client closed request"); a body already begun just ends.
    if (exchange.head) this.failed(exchange, 499, "client_closed_request", reason);
    else exchange.end();
    try {
      this.send(encodeFrame(FrameType.cancel, stream));
    } catch {
      // The socket closed meanwhile: the node drops the exchange with it.
    }
  }

  private failed(exchange: Exchange, status: number, code: string, reason: string): void {
    const message = reason.slice(0, 200);
    exchange.fail(new Error(message), relayFailure(status, code, message));
  }

  private grant(stream: number, bytes: number): void {
    if (!this.exchanges.has(stream)) return;
    try {
      this.send(encodeFrame(FrameType.credit, stream, encodeCredit(bytes)));
    } catch {
      // The socket closed meanwhile.
    }
  }

  private allocateStream(): number {
    const stream = this.nextStream;
    this.nextStream = stream >= MAX_STREAM_ID ? 1 : stream + 1;
    return stream;
  }
}
