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
    expect(d.push("event: msg\nid: 3\ndata: one\ndata:two\n\n")[0]).toMatchObject({ data: "one\ntwo", event: "msg" });
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

  it("finds an event end split across pieces, for every line ending", () => {
    for (const end of ["\n\n", "\r\n\r\n", "\r\r", "\n\r\n", "\r\n\n", "\n\r", "\r\n\r"]) {
      const text = `data: a${end}data: b${end}`;
      for (let cut = 1; cut < text.length; cut++) {
        const d = new SseDecoder();
        const events = [...d.push(text.slice(0, cut)), ...d.push(text.slice(cut)), ...d.flush()];
        expect(
          events.map((e) => e.data),
          JSON.stringify({ end, cut }),
        ).toEqual(["a", "b"]);
        expect(events.map((e) => e.raw).join("")).toBe(text);
      }
    }
  });

  it("gives the same events fed one character at a time", () => {
    const text = 'data: {"x":1}\n\n: ping\r\n\r\nevent: e\ndata: 1\ndata: 2\r\rdata: [DONE]\n\n';
    const whole = new SseDecoder().push(text);
    const d = new SseDecoder();
    const one = [...text].flatMap((c) => d.push(c));
    expect(one).toEqual(whole);
    expect(whole.map((e) => e.data)).toEqual(['{"x":1}', null, "1\n2", "[DONE]"]);
  });

  it("drops an event that grows past the bound, and everything after it", () => {
    const d = new SseDecoder(1000);
    expect(d.push("data: ok\n\ndata: ")).toHaveLength(1);
    for (let i = 0; i < 20; i++) expect(d.push("x".repeat(100))).toEqual([]);
    expect(d.overflowed).toBe(true);
    expect(d.buffered).toBe(0);
    expect(d.push("\n\ndata: later\n\n")).toEqual([]);
    expect(d.flush()).toEqual([]);
  });

  it("holds an 8 MiB endless event in pieces, without joining or rescanning them, until the bound", () => {
    const d = new SseDecoder(16 * 1024 * 1024);
    const piece = "y".repeat(64 * 1024);
    d.push("data: ");
    for (let i = 0; i < 128; i++) d.push(piece);
    expect(d.buffered).toBe(6 + 128 * piece.length);
    expect(d.push("\n\n")[0]?.data?.length).toBe(128 * piece.length);
  });

  it("holds an event sent a character at a time without rejoining what it holds (linear in its length)", () => {
    const d = new SseDecoder();
    d.push("data: ");
    // Quadratic handling of 1-character pieces took seconds for 80,000 of them; this is 600,000.
    let events = 0;
    for (let i = 0; i < 600_000; i++) events += d.push("x").length;
    expect(events).toBe(0);
    const [event] = d.push("\n\n");
    expect(event?.data?.length).toBe(600_000);
  });
});
