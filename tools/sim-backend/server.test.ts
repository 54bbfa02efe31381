import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_STATS_PATH, SIMULATED_OWNER, startSimBackend, type SimBackend } from "./server.js";
import { MAX_REPLY_TOKENS } from "./reply.js";
import { countTokens } from "./tokenizer.js";

let backend: SimBackend;
beforeAll(async () => {
  backend = await startSimBackend({ models: ["sim-small", "sim-embed"], log: () => {} });
});
afterAll(() => backend.close());

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${backend.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Splits an event-stream body into its `data:` payloads, checking every event is `data: ...\n\n`. */
async function events(res: Response): Promise<string[]> {
  const text = await res.text();
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}

interface ChatChunk {
  id: string;
  object: string;
  created: number;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

const messages = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hello, mesh world!" },
];
const promptTokens = countTokens("Be brief.") + countTokens("Hello, mesh world!");

describe("sim-backend", () => {
  it("lists its models as simulated", async () => {
    const body = (await (await fetch(`${backend.url}/v1/models`)).json()) as {
      object: string;
      data: { id: string; owned_by: string }[];
    };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => [m.id, m.owned_by])).toEqual([
      ["sim-small", SIMULATED_OWNER],
      ["sim-embed", SIMULATED_OWNER],
    ]);
  });

  it("answers a chat completion whose usage counts what it produced", async () => {
    const res = await post("/v1/chat/completions", { model: "sim-small", messages, max_tokens: 5 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      choices: { message: { content: string }; finish_reason: string }[];
      usage: ChatChunk["usage"];
    };
    expect(body.object).toBe("chat.completion");
    const content = body.choices[0]!.message.content;
    expect(content).toBe("Be brief Hello mesh world");
    expect(body.choices[0]!.finish_reason).toBe("length");
    expect(body.usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 });
  });

  it("streams chat chunks in OpenAI's include_usage wire format", async () => {
    const res = await post("/v1/chat/completions", {
      model: "sim-small",
      messages,
      max_tokens: 7,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const data = await events(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk);
    const usageChunk = chunks.at(-1)!;
    const choiceChunks = chunks.slice(0, -1);
    expect(new Set(chunks.map((c) => `${c.id}/${c.created}/${c.object}`)).size).toBe(1);
    expect(chunks[0]!.object).toBe("chat.completion.chunk");
    expect(choiceChunks[0]!.choices[0]!.delta.role).toBe("assistant");
    for (const chunk of choiceChunks) expect(chunk).toHaveProperty("usage", null);
    expect(choiceChunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
    expect(choiceChunks.slice(0, -1).every((c) => c.choices[0]!.finish_reason === null)).toBe(true);
    expect(usageChunk.choices).toEqual([]);
    const content = choiceChunks.map((c) => c.choices[0]!.delta.content ?? "").join("");
    expect(usageChunk.usage).toEqual({
      prompt_tokens: promptTokens,
      completion_tokens: countTokens(content),
      total_tokens: promptTokens + 7,
    });
    expect(countTokens(content)).toBe(7);
  });

  it("leaves usage out of a stream that did not ask for it", async () => {
    const data = await events(await post("/v1/chat/completions", { model: "sim-small", messages, stream: true }));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk);
    expect(chunks.some((c) => "usage" in c)).toBe(false);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("streams legacy completions with a usage chunk", async () => {
    const res = await post("/v1/completions", {
      model: "sim-small",
      prompt: "one two three",
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    const data = await events(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data
      .slice(0, -1)
      .map((d) => JSON.parse(d) as { object: string; choices: { text: string }[]; usage: unknown });
    expect(chunks.every((c) => c.object === "text_completion")).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe("one two three one");
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
  });

  it("returns the same embedding for the same input, as floats or base64", async () => {
    const floats = (await (
      await post("/v1/embeddings", { model: "sim-embed", input: ["alpha beta", "gamma"] })
    ).json()) as {
      data: { index: number; embedding: number[] }[];
      usage: { prompt_tokens: number; total_tokens: number };
    };
    expect(floats.data.map((d) => d.index)).toEqual([0, 1]);
    expect(floats.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const again = (await (
      await post("/v1/embeddings", { model: "sim-embed", input: "alpha beta", encoding_format: "base64" })
    ).json()) as {
      data: { embedding: string }[];
    };
    const bytes = Buffer.from(again.data[0]!.embedding, "base64");
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toEqual(floats.data[0]!.embedding);
    expect(floats.data[0]!.embedding).not.toEqual(floats.data[1]!.embedding);
  });

  it("answers bad requests in OpenAI's error shape", async () => {
    const invalid = await fetch(`${backend.url}/v1/chat/completions`, { method: "POST", body: "{not json" });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_json", param: null },
    });
    const unknown = await post("/v1/chat/completions", { model: "gpt-nope", messages });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "model_not_found", param: "model" } });
  });

  it("fails on purpose at the configured rate", async () => {
    const flaky = await startSimBackend({ failRate: 1, log: () => {} });
    try {
      const res = await fetch(`${flaky.url}/v1/embeddings`, {
        method: "POST",
        body: JSON.stringify({ model: "sim-embed", input: "x" }),
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toMatchObject({ error: { type: "server_error", code: "simulated_failure" } });
    } finally {
      await flaky.close();
    }
    expect(flaky.stats()).toMatchObject({ requests: 1, failed: 1, active: 0 });
  });

  it("takes its prefill time per KiB of request body before answering", async () => {
    const slow = await startSimBackend({ prefillMsPerKiB: 100, log: () => {} });
    try {
      const started = Date.now();
      const res = await fetch(`${slow.url}/v1/embeddings`, {
        method: "POST",
        body: JSON.stringify({ model: "sim-embed", input: "x".repeat(10 * 1024) }),
      });
      expect(res.status).toBe(200);
      // A floor, not a timing: ten KiB at 100 ms each is at least a second.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await slow.close();
    }
  });

  it("accepts requests at the hang rate and never answers them, until the client gives up", async () => {
    const hanging = await startSimBackend({ hangRate: 1, log: () => {} });
    try {
      const abort = new AbortController();
      const answer = fetch(`${hanging.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "sim-small", messages }),
        signal: abort.signal,
      });
      // Nothing is sent back, not even a status line: the request is only visible in the backend's stats.
      await until(() => hanging.stats().hung === 1);
      expect(hanging.stats()).toMatchObject({ requests: 1, active: 1, hung: 1 });
      abort.abort();
      await expect(answer).rejects.toThrow();
      await until(() => hanging.stats().active === 0);
    } finally {
      await hanging.close();
    }
  });

  it("closing the server ends requests it is hanging on", async () => {
    const hanging = await startSimBackend({ hangRate: 1, log: () => {} });
    const answer = fetch(`${hanging.url}/v1/embeddings`, {
      method: "POST",
      body: JSON.stringify({ model: "sim-embed", input: "x" }),
    });
    await until(() => hanging.stats().hung === 1);
    await hanging.close();
    await expect(answer).rejects.toThrow();
  });

  it("counts requests, peak concurrency and the body keys it received", async () => {
    // Hanging requests stay open for as long as the test likes, so concurrency is set by the test, not by timing.
    const hanging = await startSimBackend({ hangRate: 1, log: () => {} });
    try {
      const abort = new AbortController();
      const body = JSON.stringify({ model: "sim-small", messages, seed: 7 });
      const open = [1, 2, 3].map(() =>
        fetch(`${hanging.url}/v1/chat/completions`, { method: "POST", body, signal: abort.signal }).catch(() => null),
      );
      await until(() => hanging.stats().hung === 3);
      abort.abort();
      await Promise.all(open);
      await until(() => hanging.stats().active === 0);
      expect(hanging.stats()).toMatchObject({
        requests: 3,
        peakConcurrent: 3,
        lastBodyKeys: ["model", "messages", "seed"],
      });
      hanging.resetPeak();
      expect(hanging.stats().peakConcurrent).toBe(0);
    } finally {
      await hanging.close();
    }
    const before = backend.stats().requests;
    await post("/v1/embeddings", { model: "sim-embed", input: "x", user: "u" });
    const stats = backend.stats();
    expect(stats).toMatchObject({ requests: before + 1, active: 0, lastBodyKeys: ["model", "input", "user"] });
    expect(stats.bodyKeysSeen).toEqual(expect.arrayContaining(["input", "messages", "model", "user"]));
    expect(stats.bodyKeysSeen).toEqual([...stats.bodyKeysSeen].sort());
    const served = (await (await fetch(`${backend.url}${SIM_STATS_PATH}`)).json()) as unknown;
    expect(served).toEqual(backend.stats());
  });
});

/** Waits for a condition the backend reaches on its own (the test's timeout bounds it). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("sim-backend reporting no usage", () => {
  it("leaves usage out of answers and streams even when asked for it", async () => {
    const silent = await startSimBackend({ models: ["sim-small"], omitUsage: true, log: () => {} });
    try {
      const post = (body: unknown) =>
        fetch(`${silent.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const whole = (await (await post({ model: "sim-small", messages, max_tokens: 3 })).json()) as {
        usage?: unknown;
        choices: unknown[];
      };
      expect(whole.choices).toHaveLength(1);
      expect(whole.usage).toBeUndefined();
      const streamed = await events(
        await post({
          model: "sim-small",
          messages,
          max_tokens: 3,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expect(streamed.at(-1)).toBe("[DONE]");
      expect(streamed.some((d) => d.includes('"usage"'))).toBe(false);
    } finally {
      await silent.close();
    }
  });
});

describe("sim-backend with a context length", () => {
  const tight = { messages: [{ role: "user", content: "one two three four five" }] };

  it("reports max_model_len and refuses, in vLLM's error shape, a prompt plus cap above it", async () => {
    const vllm = await startSimBackend({ models: ["sim-small"], contextLength: 12, log: () => {} });
    try {
      const models = (await (await fetch(`${vllm.url}/v1/models`)).json()) as {
        data: { id: string; max_model_len: number }[];
      };
      expect(models.data).toEqual([expect.objectContaining({ id: "sim-small", max_model_len: 12 })]);
      const post = (path: string, body: unknown): Promise<Response> =>
        fetch(`${vllm.url}${path}`, { method: "POST", body: JSON.stringify(body) });

      const over = await post("/v1/chat/completions", { model: "sim-small", ...tight, max_tokens: 8 });
      expect(over.status).toBe(400);
      expect(await over.json()).toEqual({
        object: "error",
        message:
          "This model's maximum context length is 12 tokens. However, you requested 13 tokens (5 in the messages, 8 " +
          "in the completion). Please reduce the length of the messages or completion.",
        type: "BadRequestError",
        param: null,
        code: 400,
      });
      const overCompletions = await post("/v1/completions", { model: "sim-small", prompt: "a b c", max_tokens: 10 });
      expect(overCompletions.status).toBe(400);
      expect(await overCompletions.json()).toMatchObject({
        object: "error",
        message: expect.stringContaining("(3 in the messages, 10 in the completion)"),
      });

      const fits = await post("/v1/chat/completions", { model: "sim-small", ...tight, max_completion_tokens: 7 });
      expect(((await fits.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(7);
      // Without a cap, the reply runs to the end of the context.
      const uncapped = (await (await post("/v1/chat/completions", { model: "sim-small", ...tight })).json()) as {
        usage: { completion_tokens: number };
        choices: { finish_reason: string }[];
      };
      expect(uncapped.usage.completion_tokens).toBe(12 - 5);
      expect(uncapped.choices[0]!.finish_reason).toBe("length");
      const full = await post("/v1/chat/completions", {
        model: "sim-small",
        messages: [{ role: "user", content: "a b c d e f g h i j k l" }],
      });
      expect(full.status).toBe(400);
      expect(await full.json()).toMatchObject({
        message:
          "This model's maximum context length is 12 tokens. However, you requested 12 tokens in the messages, " +
          "Please reduce the length of the messages.",
      });
    } finally {
      await vllm.close();
    }
  });

  it("generates up to its own reply limit without a cap when the context is larger", async () => {
    const vllm = await startSimBackend({ models: ["sim-small"], contextLength: 1_000_000, log: () => {} });
    try {
      const res = await fetch(`${vllm.url}/v1/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "sim-small", prompt: "go" }),
      });
      expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(
        MAX_REPLY_TOKENS,
      );
    } finally {
      await vllm.close();
    }
  });
});

describe("sim-backend stream stats", () => {
  it("counts the events it streamed, and a stream it stopped because the client went away", async () => {
    const slow = await startSimBackend({ models: ["sim-small"], tokenIntervalMs: 20, log: () => {} });
    try {
      const post = (body: unknown, signal: AbortSignal | null = null): Promise<Response> =>
        fetch(`${slow.url}/v1/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ model: "sim-small", messages, stream: true, ...(body as object) }),
          signal,
        });
      await (await post({ max_tokens: 3 })).text();
      // The role chunk, 3 content chunks, the finish chunk and [DONE].
      expect(slow.stats()).toMatchObject({ streamEvents: 6, streamsAbandoned: 0 });

      const abort = new AbortController();
      const res = await post({ max_tokens: 500 }, abort.signal);
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      await until(() => slow.stats().streamsAbandoned === 1);
      const stopped = slow.stats().streamEvents;
      expect(stopped - 6).toBeLessThan(20);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(slow.stats()).toMatchObject({ streamEvents: stopped, streamsAbandoned: 1, active: 0 });
    } finally {
      await slow.close();
    }
  });

  it("answers every prompt of a completions array n times, as vLLM does, and counts all of them", async () => {
    const res = await post("/v1/completions", {
      model: "sim-small",
      prompt: ["one two", "three four", "five"],
      n: 2,
      max_tokens: 4,
    });
    const body = (await res.json()) as {
      choices: { index: number; text: string }[];
      usage: { completion_tokens: number };
    };
    expect(body.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(body.usage.completion_tokens).toBe(24);
  });

  it("gives chat n choices, and lets llama.cpp's n_predict win over max_tokens", async () => {
    const res = await post("/v1/chat/completions", { model: "sim-small", messages, n: 3, max_tokens: 2, n_predict: 6 });
    const body = (await res.json()) as { choices: unknown[]; usage: { completion_tokens: number } };
    expect(body.choices).toHaveLength(3);
    expect(body.usage.completion_tokens).toBe(18);
  });
});
