// An upstream that claims to serve the Responses API and does not serve it honestly, to put behind a stock agent
// started with `--responses-api` (the agent signs whatever its upstream reports). What it does is chosen by the
// request's model: each answer is "hi there" (8 bytes of text, two deltas) unless said otherwise.
import { createServer, type Server, type ServerResponse } from "node:http";

export const RESPONSES_LIES = {
  /** A whole, well-formed stream whose response.completed claims 50,000 output tokens. */
  overclaim: "resp-overclaim",
  /** The deltas, then the stream ends without response.completed. */
  noCompleted: "resp-no-completed",
  /** A Chat Completions stream (chunks, usage, [DONE]) where Responses events were asked for. */
  chatStream: "resp-chat-stream",
  /** Data events that are not JSON. */
  garbage: "resp-garbage",
  /** The deltas, then the connection is cut. */
  broken: "resp-broken",
  /** Long deltas, then a response.completed whose response has no output and claims them all. */
  emptyFinal: "resp-empty-final",
  /** A whole stream, then more deltas and a second response.completed after it. */
  afterCompleted: "resp-after-completed",
  /** Deltas after an event the SDKs stop at: an error event (both throw). */
  afterError: "resp-after-error",
  /** Deltas after `data: [DONE]` (both SDKs stop reading there, in any stream). */
  afterDone: "resp-after-done",
  /** Deltas under `event: thread.message.delta`, which openai-node hands on as no Responses event. */
  threadEvent: "resp-thread-event",
  /** Serves only Chat Completions: 404 at /v1/responses, which it advertises. */
  chatOnly: "resp-chat-only",
} as const;

/** The text of emptyFinal's deltas: 2,000 bytes the client that did not stream never receives. */
export const LONG_TEXT = "word ".repeat(400);

export const LIE_TEXT = ["hi", " there"];

const event = (value: { type: string } & Record<string, unknown>): string =>
  `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`;

function opening(model: string): string[] {
  const response = { id: "resp_liar", object: "response", status: "in_progress", model, output: [] };
  return [
    event({ type: "response.created", sequence_number: 0, response }),
    event({
      type: "response.output_item.added",
      sequence_number: 1,
      output_index: 0,
      item: { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] },
    }),
    ...LIE_TEXT.map((delta, i) =>
      event({ type: "response.output_text.delta", sequence_number: 2 + i, output_index: 0, content_index: 0, delta }),
    ),
  ];
}

function completed(model: string, outputTokens: number, text = LIE_TEXT.join("")): string {
  return event({
    type: "response.completed",
    sequence_number: 9,
    response: {
      id: "resp_liar",
      object: "response",
      status: "completed",
      model,
      output:
        text === ""
          ? []
          : [{ id: "msg_1", type: "message", role: "assistant", content: [{ type: "output_text", text }] }],
      usage: { input_tokens: 5, output_tokens: outputTokens, total_tokens: 5 + outputTokens },
    },
  });
}

async function write(res: ServerResponse, parts: readonly string[], end: "end" | "cut"): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream" });
  for (const part of parts) {
    res.write(part);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (end === "end") res.end();
  else res.destroy();
}

const delta = (text: string): string =>
  event({ type: "response.output_text.delta", sequence_number: 5, output_index: 0, content_index: 0, delta: text });

const chatStream = [
  ...LIE_TEXT.map((content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`),
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
  "data: [DONE]\n\n",
];

function answer(model: string, path: string, res: ServerResponse): Promise<void> {
  switch (model) {
    case RESPONSES_LIES.emptyFinal:
      return write(res, [...opening(model), delta(LONG_TEXT), completed(model, 500, "")], "end");
    case RESPONSES_LIES.afterCompleted:
      return write(
        res,
        [...opening(model), completed(model, 2), delta(LONG_TEXT), completed(model, 500, LONG_TEXT)],
        "end",
      );
    case RESPONSES_LIES.afterError:
      return write(
        res,
        [
          ...opening(model),
          event({ type: "error", sequence_number: 4, code: "boom", message: "backend exploded", param: null }),
          delta(LONG_TEXT),
          completed(model, 500, LONG_TEXT),
        ],
        "end",
      );
    case RESPONSES_LIES.afterDone:
      return write(res, [...opening(model), "data: [DONE]\n\n", delta(LONG_TEXT), completed(model, 500)], "end");
    case RESPONSES_LIES.threadEvent:
      return write(
        res,
        [
          ...opening(model),
          delta(LONG_TEXT).replace(/^event: .*$/m, "event: thread.message.delta"),
          completed(model, 500),
        ],
        "end",
      );
    case RESPONSES_LIES.chatOnly:
      if (path === "/v1/chat/completions") return write(res, chatStream, "end");
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "Not Found", type: "invalid_request_error" } }));
      return Promise.resolve();
    case RESPONSES_LIES.overclaim:
      return write(res, [...opening(model), completed(model, 50_000)], "end");
    case RESPONSES_LIES.noCompleted:
      return write(res, opening(model), "end");
    case RESPONSES_LIES.broken:
      return write(res, opening(model), "cut");
    case RESPONSES_LIES.chatStream:
      return write(res, chatStream, "end");
    default:
      return write(res, ["data: not json at all\n\n", "data: {nor this\n\n"], "end");
  }
}

export function responsesLiar(): Server {
  return createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      const { model } = JSON.parse(text) as { model: string };
      answer(model, req.url ?? "", res).catch(() => res.destroy());
    });
  });
}
