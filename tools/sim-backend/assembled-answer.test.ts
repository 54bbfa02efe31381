// The gateway's AnswerAssembler (worker/src/metering/answer-assembler.ts) against real wire bytes: the simulated
// backend answers each request once whole and once streamed with include_usage, and the stream, decoded as the
// gateway's meter decodes it, must assemble to the whole answer byte for byte (key order included). Only `id` (one per
// response) and `created` (the second it was made) legitimately differ between the two calls. Lives here because the
// sim runs in Node, the worker's tests in workerd.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseDecoder } from "@meshgate/schemas";
import { AnswerAssembler, type AnswerKind } from "../../worker/src/metering/answer-assembler.js";
import { startSimBackend, type SimBackend } from "./server.js";

type Json = Record<string, unknown>;

let backend: SimBackend;
let quiet: SimBackend;
beforeAll(async () => {
  backend = await startSimBackend({ models: ["sim-small"], log: () => {} });
  // Some servers report no usage at all, streamed or not.
  quiet = await startSimBackend({ models: ["sim-small"], omitUsage: true, log: () => {} });
});
afterAll(() => Promise.all([backend.close(), quiet.close()]));

const PATHS: Record<AnswerKind, string> = { chat: "/v1/chat/completions", completions: "/v1/completions" };

async function post(sim: SimBackend, kind: AnswerKind, body: Json): Promise<Response> {
  const res = await fetch(`${sim.url}${PATHS[kind]}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res;
}

/** The data payloads of an event stream, parsed once each, up to [DONE]. */
async function payloads(res: Response): Promise<unknown[]> {
  const decoder = new SseDecoder();
  const events = [...decoder.push(await res.text()), ...decoder.flush()];
  const data = events.map((e) => e.data).filter((d): d is string => d !== null);
  expect(data.at(-1)).toBe("[DONE]");
  return data.slice(0, -1).map((d) => JSON.parse(d) as unknown);
}

/** The answer with its per-call fields pinned, after checking they are there. */
function pinned(answer: Json): string {
  expect(typeof answer["id"]).toBe("string");
  expect(Number.isInteger(answer["created"])).toBe(true);
  return JSON.stringify({ ...answer, id: "pinned", created: 0 });
}

async function expectAssembledEqualsWhole(kind: AnswerKind, body: Json, choices: number, sim = backend): Promise<Json> {
  const whole = (await (await post(sim, kind, body)).json()) as Json;
  const chunks = await payloads(
    await post(sim, kind, { ...body, stream: true, stream_options: { include_usage: true } }),
  );
  const assembler = new AnswerAssembler(kind, choices);
  for (const chunk of chunks) assembler.add(chunk);
  const assembled = assembler.result();
  expect([assembler.chunks, assembler.ignored, assembler.error]).toStrictEqual([chunks.length, 0, null]);
  expect(assembled["id"]).toBe((chunks[0] as Json)["id"]);
  expect(pinned(assembled)).toBe(pinned(whole));
  return assembled;
}

const messages = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hello, mesh world! How are you today?" },
];

describe("a stream assembled by AnswerAssembler is the sim's whole answer", () => {
  it("chat, default length (finish_reason stop)", async () => {
    const answer = await expectAssembledEqualsWhole("chat", { model: "sim-small", messages }, 1);
    expect((answer["choices"] as Json[])[0]!["finish_reason"]).toBe("stop");
  });

  it("chat, capped (finish_reason length)", async () => {
    await expectAssembledEqualsWhole("chat", { model: "sim-small", messages, max_tokens: 5 }, 1);
  });

  it("chat, n = 3 (choices streamed one after another)", async () => {
    const answer = await expectAssembledEqualsWhole(
      "chat",
      { model: "sim-small", messages, n: 3, max_completion_tokens: 4 },
      3,
    );
    expect((answer["choices"] as Json[]).map((c) => c["index"])).toStrictEqual([0, 1, 2]);
  });

  it("chat from a server that reports no usage", async () => {
    const answer = await expectAssembledEqualsWhole("chat", { model: "sim-small", messages, max_tokens: 3 }, 1, quiet);
    expect(answer).not.toHaveProperty("usage");
  });

  it("completions, one prompt", async () => {
    await expectAssembledEqualsWhole(
      "completions",
      { model: "sim-small", prompt: "Once upon a time in a mesh", max_tokens: 6 },
      1,
    );
  });

  it("completions, nothing generated (max_tokens 0)", async () => {
    const answer = await expectAssembledEqualsWhole(
      "completions",
      { model: "sim-small", prompt: "Say nothing", max_tokens: 0 },
      1,
    );
    expect((answer["choices"] as Json[])[0]!["text"]).toBe("");
  });

  it("completions, several prompts answered n = 2 times each (choice index prompt × n + i)", async () => {
    const answer = await expectAssembledEqualsWhole(
      "completions",
      { model: "sim-small", prompt: ["alpha beta", "gamma delta", "epsilon"], n: 2, max_tokens: 3 },
      6,
    );
    expect((answer["choices"] as Json[]).length).toBe(6);
  });

  it("completions, a token-id prompt without a cap", async () => {
    await expectAssembledEqualsWhole("completions", { model: "sim-small", prompt: [1, 2, 3, 4] }, 1);
  });

  it("completions from a server that reports no usage", async () => {
    await expectAssembledEqualsWhole(
      "completions",
      { model: "sim-small", prompt: "quiet please", max_tokens: 2 },
      1,
      quiet,
    );
  });
});
