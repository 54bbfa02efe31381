// An OpenAI-compatible inference server that lies about its usage, to put behind a stock node agent: the agent signs
// whatever its upstream reports, so this is what a dishonest operator needs, no modified agent at all. Each answer
// is two tokens ("hi there"), padded in the ways a liar would pad it to raise what the gateway may bill; what it
// claims, and how it answers, is set per test with `lie`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Lie =
  /** A 200 answer whose usage claims this many completion tokens. */
  | { kind: "inflate"; completionTokens: number }
  /** A 4xx in vLLM's older error shape, carrying a usage object that would lock a tpm key and break usage sums. */
  | {
      kind: "error_with_usage";
      status: number;
      message: string;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    }
  /**
   * A stream that goes on after its end `marker` (clients stop reading at a payload starting with `[DONE]`): `padBytes`
   * of text, then usage claiming `completionTokens`, then a real `[DONE]`.
   */
  | { kind: "after_done"; marker: string; padBytes: number; completionTokens: number }
  /**
   * `deltas` tool-call deltas of one byte each, every one of them numbered as the same call, claiming
   * `completionTokens`.
   */
  | { kind: "tool_call_deltas"; deltas: number; completionTokens: number }
  /** All the text in choice 0 (`padBytes`), none in the others the client asked for, claiming `completionTokens`. */
  | { kind: "one_choice"; padBytes: number; completionTokens: number }
  /**
   * "hi", then after `pauseMs` (time for the client to leave) `padBytes` of text and usage claiming `completionTokens`.
   */
  | { kind: "late_burst"; pauseMs: number; padBytes: number; completionTokens: number };

type StreamLie = Extract<Lie, { kind: "after_done" | "tool_call_deltas" | "one_choice" | "late_burst" }>;

export interface LyingUpstream {
  url: string;
  lie: Lie;
  /** Requests it answered. */
  readonly answered: number;
  close(): Promise<void>;
}

const TEXT = ["hi", " there"];

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text) as Record<string, unknown>;
}

function answer(res: ServerResponse, body: Record<string, unknown>, completionTokens: number): void {
  const base = { id: "chatcmpl-liar", created: Math.floor(Date.now() / 1000), model: body["model"] };
  const usage = { prompt_tokens: 5, completion_tokens: completionTokens, total_tokens: 5 + completionTokens };
  if (body["stream"] !== true) {
    const choice = { index: 0, message: { role: "assistant", content: TEXT.join("") }, finish_reason: "stop" };
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ ...base, object: "chat.completion", choices: [choice], usage }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (delta: object, finish: string | null) => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  for (const piece of TEXT) res.write(`data: ${JSON.stringify(chunk({ content: piece }, null))}\n\n`);
  res.write(`data: ${JSON.stringify(chunk({}, "stop"))}\n\n`);
  res.write(`data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [], usage })}\n\n`);
  res.end("data: [DONE]\n\n");
}

/** Padding in events of 1,000 bytes, as a server streams text. */
function padEvents(bytes: number, chunk: (delta: object) => object): string {
  let out = "";
  for (let left = bytes; left > 0; left -= 1_000)
    out += `data: ${JSON.stringify(chunk({ content: "x".repeat(Math.min(1_000, left)) }))}\n\n`;
  return out;
}

/** A streamed answer padded as `lie` says (the client must ask to stream). */
async function padded(res: ServerResponse, body: Record<string, unknown>, lie: StreamLie): Promise<void> {
  const base = {
    id: "chatcmpl-liar",
    created: Math.floor(Date.now() / 1000),
    model: body["model"],
    object: "chat.completion.chunk",
  };
  const chunk = (delta: object, index = 0) => ({ ...base, choices: [{ index, delta, finish_reason: null }] });
  const usage = `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: lie.completionTokens, total_tokens: 5 + lie.completionTokens } })}\n\n`;
  res.writeHead(200, { "content-type": "text/event-stream" });
  switch (lie.kind) {
    case "after_done":
      res.end(
        `data: ${JSON.stringify(chunk({ content: "hi there" }))}\n\ndata: ${lie.marker}\n\n${padEvents(lie.padBytes, chunk)}${usage}data: [DONE]\n\n`,
      );
      return;
    case "tool_call_deltas": {
      const call = (i: number) => ({
        tool_calls: [
          {
            index: 0,
            id: "call_0",
            type: "function",
            function: i === 0 ? { name: "f", arguments: "x" } : { arguments: "x" },
          },
        ],
      });
      res.end(
        `${Array.from({ length: lie.deltas }, (_, i) => `data: ${JSON.stringify(chunk(call(i)))}\n\n`).join("")}${usage}data: [DONE]\n\n`,
      );
      return;
    }
    case "one_choice":
      res.end(`${padEvents(lie.padBytes, chunk)}${usage}data: [DONE]\n\n`);
      return;
    case "late_burst":
      res.write(`data: ${JSON.stringify(chunk({ content: "hi" }))}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, lie.pauseMs));
      res.end(`${padEvents(lie.padBytes, chunk)}${usage}data: [DONE]\n\n`);
      return;
  }
}

export async function startLyingUpstream(models: readonly string[], lie: Lie): Promise<LyingUpstream> {
  let answered = 0;
  const state = { lie };
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/v1/models") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ object: "list", data: models.map((id) => ({ id, object: "model", owned_by: "liar" })) }));
      return;
    }
    void readJson(req).then((body) => {
      answered++;
      const current = state.lie;
      if (current.kind === "inflate") return answer(res, body, current.completionTokens);
      if (current.kind !== "error_with_usage") return padded(res, body, current);
      const error = {
        object: "error",
        message: current.message,
        type: "BadRequestError",
        param: null,
        code: current.status,
        usage: current.usage,
      };
      res.writeHead(current.status, { "content-type": "application/json" }).end(JSON.stringify(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get lie() {
      return state.lie;
    },
    set lie(next: Lie) {
      state.lie = next;
    },
    get answered() {
      return answered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
