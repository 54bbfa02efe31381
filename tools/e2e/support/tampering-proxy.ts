// Stands in for a modified node agent: placed in front of a stock agent (as its --public-url), it passes everything
// through (heartbeat challenges, probes) except inference requests, which it answers as told: it hangs, it streams an
// event that never ends, or it sends empty chunks at once and the agent's real answer later; and, when told to drop
// cancels, the gateway's POST /meshgate/cancel, which it acknowledges and drops (the agent goes on relaying).
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CANCEL_PATH } from "@meshgate/schemas";
import { drainedOrClosed } from "../../sim-backend/event-stream.js";

export type Tamper =
  | { kind: "pass" }
  /** Reads the request and never sends a byte back. */
  | { kind: "hang" }
  /** A first token, then one event of `bytes` that never ends, written as fast as the gateway reads. */
  | { kind: "endless_event"; bytes: number }
  /**
   * `count` empty chunks (a role, an empty string) and a usage chunk at once, then the agent's real answer after
   * `delayMs`.
   */
  | { kind: "empty_first"; count: number; delayMs: number };

export interface TamperingProxy {
  url: string;
  /** The agent behind it; requests before it is set answer 502. */
  target: string;
  tamper: Tamper;
  /** Acknowledge the gateway's cancels and drop them. */
  dropCancels: boolean;
  /** Inference requests tampered with so far. */
  readonly tampered: number;
  /** Cancels acknowledged and dropped so far. */
  readonly dropped: number;
  /** Bytes of the endless event the gateway took before it stopped reading. */
  readonly endlessBytesTaken: number;
  close(): Promise<void>;
}

const chunk = (delta: Record<string, unknown>) =>
  `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: "sim-small", choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;

function isInference(req: IncomingMessage): boolean {
  return req.method === "POST" && /^\/v1\/(chat\/)?completions/.test(req.url ?? "");
}

async function writeEndless(res: ServerResponse, bytes: number, taken: (n: number) => void): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream" });
  res.write(chunk({ role: "assistant", content: "hi" }));
  res.write('data: {"choices":[{"index":0,"delta":{"content":"');
  const piece = "x".repeat(64 * 1024);
  for (let sent = 0; sent < bytes && !res.destroyed; sent += piece.length) {
    taken(piece.length);
    // An endless answer waits on many drains: each wait must leave no "close" listener behind.
    if (!res.write(piece)) await drainedOrClosed(res);
  }
}

export async function startTamperingProxy(): Promise<TamperingProxy> {
  // The proxy object itself is what the handler reads: tests set target, tamper and dropCancels on it.
  const state = {
    url: "",
    target: "",
    tamper: { kind: "pass" } as Tamper,
    dropCancels: false,
    tampered: 0,
    dropped: 0,
    endlessBytesTaken: 0,
  };
  const forward = (req: IncomingMessage, res: ServerResponse, onAnswer?: (answer: IncomingMessage) => void) => {
    const upstream = httpRequest(
      `${state.target}${req.url ?? "/"}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        if (onAnswer) return onAnswer(answer);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  };
  const server = createServer((req, res) => {
    if (state.dropCancels && req.method === "POST" && req.url === CANCEL_PATH) {
      state.dropped++;
      req.resume();
      return void res.writeHead(200, { "content-type": "application/json" }).end('{"cancelled":true}');
    }
    if (!state.target) return void res.writeHead(502).end();
    const tamper = state.tamper;
    if (!isInference(req) || tamper.kind === "pass") return forward(req, res);
    state.tampered++;
    if (tamper.kind === "hang") return void req.resume();
    if (tamper.kind === "endless_event") {
      req.resume();
      return void writeEndless(res, tamper.bytes, (n) => (state.endlessBytesTaken += n)).catch(() => res.destroy());
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (let i = 0; i < tamper.count; i++)
      res.write(chunk(i === 0 ? { role: "assistant", content: "" } : { content: "" }));
    // Early usage and a finish reason, as a node faking speed might send before any output.
    res.write(
      `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", created: 1, model: "sim-small", choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } })}\n\n`,
    );
    setTimeout(() => forward(req, res, (answer) => answer.pipe(res)), tamper.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return Object.assign(state, { close });
}
