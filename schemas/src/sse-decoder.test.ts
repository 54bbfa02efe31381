import { describe, expect, it } from "vitest";
import { SseDecoder } from "./sse-decoder.js";

describe("SseDecoder", () => {
  it("yields whole events with their data and exact source text", () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a":1}\n\ndata: [DONE]\n\n')).toEqual([
      { data: '{"a":1}', raw: 'data: {"a":1}\n\n' },
      { data: "[DONE]", raw: "data: [DONE]\n\n" },
    ]);
    expect(d.buffered).toBe(0);
  });

  it("holds a partial event until its blank line arrives", () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a"')).toEqual([]);
    expect(d.push(":1}\n")).toEqual([]);
    expect(d.push("\n")).toEqual([{ data: '{"a":1}', raw: 'data: {"a":1}\n\n' }]);
  });

  it("accepts CRLF and CR line endings", () => {
    const d = new SseDecoder();
    expect(d.push("data: x\r\n\r\ndata: y\r\r").map((e) => e.data)).toEqual(["x", "y"]);
  });

  it("joins multi-line data and ignores other fields", () => {
    const d = new SseDecoder();
    expect(d.push("event: msg\nid: 3\ndata: one\ndata:two\n\n")[0]?.data).toBe("one\ntwo");
  });

  it("passes comments through as data-less events", () => {
    const d = new SseDecoder();
    expect(d.push(": keep-alive\n\n")).toEqual([{ data: null, raw: ": keep-alive\n\n" }]);
  });

  it("does not mistake a field that merely starts with 'data' for data", () => {
    const d = new SseDecoder();
    expect(d.push("dataset: 1\n\n")[0]?.data).toBeNull();
  });

  it("flushes a last event that lacks the final blank line", () => {
    const d = new SseDecoder();
    d.push("data: [DONE]");
    expect(d.flush()).toEqual([{ data: "[DONE]", raw: "data: [DONE]" }]);
    expect(d.flush()).toEqual([]);
  });
});
