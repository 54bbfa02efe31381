import { describe, expect, it } from "vitest";
import { inspectChunk, parseJsonBody, usageFrom } from "./usage.js";

const usage = { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 };

describe("usageFrom", () => {
  it("reads OpenAI usage", () => {
    expect(usageFrom({ usage })).toEqual(usage);
  });

  it("derives completion tokens for embeddings-style usage", () => {
    expect(usageFrom({ usage: { prompt_tokens: 4, total_tokens: 4 } })).toEqual({
      prompt_tokens: 4,
      completion_tokens: 0,
      total_tokens: 4,
    });
  });

  it("recomputes the total from its parts instead of trusting it", () => {
    expect(usageFrom({ usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 99 } })?.total_tokens).toBe(10);
  });

  it("ignores missing, null, negative or fractional counts", () => {
    expect(usageFrom({})).toBeNull();
    expect(usageFrom({ usage: null })).toBeNull();
    expect(usageFrom({ usage: { prompt_tokens: -1, completion_tokens: 1, total_tokens: 0 } })).toBeNull();
    expect(usageFrom({ usage: { prompt_tokens: 1.5, completion_tokens: 1, total_tokens: 2.5 } })).toBeNull();
    expect(usageFrom("text")).toBeNull();
  });
});

describe("parseJsonBody", () => {
  const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

  it("parses a whole answer, and says undefined for one that is not JSON", () => {
    expect(usageFrom(parseJsonBody(bytes(JSON.stringify({ object: "chat.completion", choices: [], usage }))))).toEqual(
      usage,
    );
    expect(parseJsonBody(bytes("<html>"))).toBeUndefined();
    expect(parseJsonBody(bytes(""))).toBeUndefined();
  });
});

describe("inspectChunk", () => {
  const contentChunk = {
    id: "c",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content: "hi" } }],
    usage: null,
  };
  const usageChunk = { id: "c", object: "chat.completion.chunk", choices: [], usage };

  it("forwards content chunks untouched", () => {
    expect(inspectChunk(contentChunk, true)).toEqual({ action: "forward", usage: null });
  });

  it("drops the usage-only chunk the client did not ask for, keeping the counts", () => {
    expect(inspectChunk(usageChunk, true)).toEqual({ action: "drop", usage });
  });

  it("forwards the usage chunk when the client asked for it", () => {
    expect(inspectChunk(usageChunk, false)).toEqual({ action: "forward", usage });
  });

  it("blanks usage riding on a content chunk instead of dropping the content", () => {
    const mixed = { id: "c", choices: [{ index: 0, delta: { content: "x" } }], usage };
    const verdict = inspectChunk(mixed, true);
    expect(verdict.action).toBe("rewrite");
    expect(verdict.usage).toEqual(usage);
    if (verdict.action === "rewrite")
      expect(JSON.parse(verdict.data)).toEqual({
        id: "c",
        choices: [{ index: 0, delta: { content: "x" } }],
        usage: null,
      });
  });

  it("forwards what is not JSON as is", () => {
    expect(inspectChunk(undefined, true)).toEqual({ action: "forward", usage: null });
  });
});
