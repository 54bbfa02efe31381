import { describe, expect, it } from "vitest";
import { ChatCompletionRequestSchema, CompletionRequestSchema } from "./openai.js";

const chat = (extra: Record<string, unknown>, content: unknown = "hi") => ({
  model: "m",
  messages: [{ role: "user", content }],
  ...extra,
});

/** The paths and messages of the issues a body raises; none when it is accepted. */
function problems(
  schema: typeof ChatCompletionRequestSchema | typeof CompletionRequestSchema,
  body: unknown,
): string[] {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("inference request schemas", () => {
  it("refuses a field that hides output unless the request caps it", () => {
    for (const extra of [
      { logit_bias: { "128002": 20 } },
      { ignore_eos: true },
      { min_tokens: 5 },
      { allowed_token_ids: [7] },
      { include_reasoning: false },
    ]) {
      const field = Object.keys(extra)[0] ?? "";
      expect(problems(ChatCompletionRequestSchema, chat(extra))).toEqual([
        expect.stringMatching(new RegExp(`^${field}: .*set max_tokens`)),
      ]);
      expect(problems(ChatCompletionRequestSchema, chat({ ...extra, max_tokens: 100 }))).toEqual([]);
      expect(problems(CompletionRequestSchema, { model: "m", prompt: "p", ...extra })).toHaveLength(1);
    }
    // Banning tokens hides nothing, nor do the neutral values.
    for (const extra of [
      { logit_bias: { "50256": -100 } },
      { logit_bias: {} },
      { ignore_eos: false },
      { min_tokens: 0 },
      { include_reasoning: true },
      { allowed_token_ids: [] },
    ]) {
      expect(problems(ChatCompletionRequestSchema, chat(extra))).toEqual([]);
    }
  });

  it("reads those fields as loosely as the servers do: any value but a plainly neutral one asks for a cap", () => {
    for (const extra of [
      { logit_bias: { "151643": "100" } },
      { logit_bias: [[151643, 100]] },
      { ignore_eos: "true" },
      { ignore_eos: 1 },
      { min_tokens: "4000" },
      { include_reasoning: 0 },
      { include_reasoning: "false" },
    ]) {
      expect(problems(ChatCompletionRequestSchema, chat(extra))).toEqual([expect.stringMatching(/set max_tokens/)]);
    }
  });

  it("refuses a field the gateway reads spelt in another case, which Go's JSON (Ollama) would take as it", () => {
    expect(problems(ChatCompletionRequestSchema, chat({ max_tokens: 10, MAX_TOKENS: 100_000 }))).toEqual([
      expect.stringMatching(/^MAX_TOKENS: field names are case-sensitive/),
    ]);
    expect(problems(ChatCompletionRequestSchema, chat({ max_tokenſ: 100_000 }))).toHaveLength(1);
    expect(problems(ChatCompletionRequestSchema, chat({ Temperature: 0.5 }))).toEqual([]);
  });

  it("refuses stream_options on a request that does not stream, as OpenAI does", () => {
    const options = { stream_options: { include_usage: true } };
    expect(problems(ChatCompletionRequestSchema, chat(options))).toEqual([
      "stream_options: stream_options is only allowed when stream is true",
    ]);
    expect(problems(CompletionRequestSchema, { model: "m", prompt: "p", stream: false, ...options })).toHaveLength(1);
    expect(problems(ChatCompletionRequestSchema, chat({ stream: true, ...options }))).toEqual([]);
    expect(problems(ChatCompletionRequestSchema, chat({ stream_options: null }))).toEqual([]);
  });

  it("caps completions per request (n × prompts) and stop sequences", () => {
    const prompt = Array.from({ length: 100 }, () => "p");
    expect(problems(CompletionRequestSchema, { model: "m", prompt, n: 128 })).toEqual([
      expect.stringMatching(/^prompt: at most 2048 completions/),
    ]);
    expect(problems(CompletionRequestSchema, { model: "m", prompt, n: 20 })).toEqual([]);
    expect(problems(ChatCompletionRequestSchema, chat({ stop: Array.from({ length: 65 }, () => "") }))).toHaveLength(1);
  });

  it("refuses a prompt built outside the messages: a client's own template, image-size options", () => {
    expect(
      problems(ChatCompletionRequestSchema, chat({ chat_template: "{% for i in range(99999) %}x{% endfor %}" })),
    ).toEqual([expect.stringMatching(/^chat_template: .*cannot bound/)]);
    expect(problems(ChatCompletionRequestSchema, chat({ mm_processor_kwargs: { max_pixels: 1e9 } }))).toHaveLength(1);
  });

  it("accepts text and media content parts and refuses any other, or one without a type", () => {
    const known = [
      { type: "text", text: "a" },
      { type: "image_url", image_url: { url: "https://x" } },
      { type: "input_audio", input_audio: {} },
      { type: "file", file: {} },
    ];
    expect(problems(ChatCompletionRequestSchema, chat({}, known))).toEqual([]);
    for (const part of [{ type: "video_url", video_url: {} }, { type: "x" }, { text: "no type" }, "a string"]) {
      expect(problems(ChatCompletionRequestSchema, chat({}, [part]))).toEqual([
        expect.stringMatching(/^messages\.0\.content\.0\.type: .*supported: text, refusal, image_url/),
      ]);
    }
    // One issue however many bad parts: a body of them costs no more than one.
    expect(
      problems(
        ChatCompletionRequestSchema,
        chat(
          {},
          Array.from({ length: 100_000 }, () => ({})),
        ),
      ),
    ).toHaveLength(1);
  });
});
