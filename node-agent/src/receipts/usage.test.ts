import { describe, expect, it } from "vitest";
import { withoutUsage } from "./usage.js";

const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };

describe("withoutUsage", () => {
  it("drops the usage-only chunk: its choices are empty", () => {
    expect(withoutUsage({ id: "c", object: "chat.completion.chunk", choices: [], usage })).toBeNull();
  });

  it("nulls usage riding on a content chunk, keeping every other field in its place", () => {
    const chunk = { id: "c", choices: [{ index: 0, delta: { content: "hi" } }], usage, system_fingerprint: "fp" };
    expect(withoutUsage(chunk)).toBe('{"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null,"system_fingerprint":"fp"}');
  });

  it("keeps a chunk without choices (not a usage-only chunk) and nulls its usage", () => {
    expect(withoutUsage({ id: "c", usage })).toBe('{"id":"c","usage":null}');
  });
});
