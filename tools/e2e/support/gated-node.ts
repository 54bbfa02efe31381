// A stand-in node whose streamed reply advances only when the test says so: it sends one chunk, then waits for
// `release()` before the next. A client can therefore only see chunk N+1 after it has seen chunk N and released,
// which proves chunk by chunk passthrough without measuring any time: a buffering hop makes the test wait forever.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ENDPOINT_PROOF_PATH } from "@meshgate/schemas";
import { endpointProof, type TestNode } from "./heartbeat.js";

export interface GatedNode {
  url: string;
  /** Lets the open stream send its next chunk. */
  release(): void;
  /** How many chunks the node has written so far. */
  readonly sent: number;
  close(): Promise<void>;
}

const event = (data: object) => `data: ${JSON.stringify(data)}\n\n`;

async function readText(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return text;
}

/** `identity` answers the gateway's endpoint challenge, so the node can be routed to. */
export async function startGatedNode(model: string, pieces: readonly string[], identity: TestNode): Promise<GatedNode> {
  let sent = 0;
  let releases = 0;
  let wake: (() => void) | null = null;
  const released = async (n: number) => {
    while (releases < n) await new Promise<void>((resolve) => (wake = resolve));
  };

  /** Usage comes last, and only when asked for (`stream_options.include_usage`), as OpenAI-compatible servers do. */
  async function stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const asked = JSON.parse(await readText(req)) as { stream_options?: { include_usage?: boolean } | null };
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const base = { id: "chatcmpl-gated", object: "chat.completion.chunk", created: 0, model };
    for (const [i, piece] of pieces.entries()) {
      await released(i);
      res.write(event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }));
      sent++;
    }
    await released(pieces.length);
    const usage = { prompt_tokens: 1, completion_tokens: pieces.length, total_tokens: 1 + pieces.length };
    if (asked.stream_options?.include_usage === true) res.write(event({ ...base, choices: [], usage }));
    res.end("data: [DONE]\n\n");
  }

  let url = "";
  async function prove(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const proof = await endpointProof(identity, url, await readText(req));
    if (proof) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(proof));
    else res.writeHead(400).end();
  }

  const server = createServer((req, res) => {
    if (req.method === "POST" && req.url === ENDPOINT_PROOF_PATH) return void prove(req, res);
    if (req.method === "POST" && req.url === "/v1/chat/completions") return void stream(req, res);
    req.resume();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    release() {
      releases++;
      wake?.();
    },
    get sent() {
      return sent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
