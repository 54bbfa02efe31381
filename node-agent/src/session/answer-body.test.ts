import { describe, expect, it } from "vitest";
import { decodeFrame, FrameType, MAX_FRAME_PAYLOAD_BYTES, type Frame } from "@meshgate/schemas";
import { AnswerBody, type AnswerBodyOptions } from "./answer-body.js";

interface Harness {
  body: AnswerBody;
  frames: Frame[];
  /** "pause" / "resume" calls, in order. */
  flow: string[];
  ended: () => boolean;
}

function harness(options: Partial<AnswerBodyOptions> = {}): Harness {
  const frames: Frame[] = [];
  const flow: string[] = [];
  let ended = false;
  const body = new AnswerBody({
    stream: 7,
    send: (bytes) => frames.push(decodeFrame(bytes)!),
    pause: () => flow.push("pause"),
    resume: () => flow.push("resume"),
    ended: () => (ended = true),
    ...options,
  });
  return { body, frames, flow, ended: () => ended };
}

const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));
const text = (frame: Frame | undefined) => Buffer.from(frame?.payload ?? []).toString("utf8");
const types = (frames: Frame[]) => frames.map((frame) => frame.type);

describe("an answer body's frames", () => {
  it("sends chunks of one macrotask as one frame, at the end of that macrotask", async () => {
    const { body, frames } = harness();
    body.push(Buffer.from("data: 1\n\n"));
    body.push(Buffer.from("data: 2\n\n"));
    expect(frames).toEqual([]);
    await nextMacrotask();
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ type: FrameType.responseBody, stream: 7 });
    expect(text(frames[0])).toBe("data: 1\n\ndata: 2\n\n");
    body.push(Buffer.from("data: 3\n\n"));
    await nextMacrotask();
    expect(frames.map(text)).toEqual(["data: 1\n\ndata: 2\n\n", "data: 3\n\n"]);
  });

  it("holds chunks for a longer window when asked to", async () => {
    const { body, frames } = harness({ coalesceMs: 30 });
    body.push(Buffer.from("a"));
    await nextMacrotask();
    body.push(Buffer.from("b"));
    await nextMacrotask();
    expect(frames).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(frames.map(text)).toEqual(["ab"]);
  });

  it("cuts a burst into frames of at most the largest payload", async () => {
    const { body, frames } = harness({ windowBytes: 10 * MAX_FRAME_PAYLOAD_BYTES });
    body.push(Buffer.alloc(MAX_FRAME_PAYLOAD_BYTES * 2 + 5));
    await nextMacrotask();
    expect(frames.map((frame) => frame.payload.byteLength)).toEqual([
      MAX_FRAME_PAYLOAD_BYTES,
      MAX_FRAME_PAYLOAD_BYTES,
      5,
    ]);
  });

  it("sends no more than the window plus the credit, pausing its producer until credit comes", async () => {
    const { body, frames, flow } = harness({ windowBytes: 10 });
    body.push(Buffer.from("0123456789abcdefghijklmno"));
    await nextMacrotask();
    expect(frames.map(text)).toEqual(["0123456789"]);
    expect(flow).toEqual(["pause"]);
    body.grant(10);
    expect(frames.map(text)).toEqual(["0123456789", "abcdefghij"]);
    expect(flow).toEqual(["pause"]);
    body.grant(100);
    expect(frames.map(text)).toEqual(["0123456789", "abcdefghij", "klmno"]);
    expect(flow).toEqual(["pause", "resume"]);
  });

  it("ends only after the last byte, which may wait for credit", async () => {
    const { body, frames, ended } = harness({ windowBytes: 4 });
    body.push(Buffer.from("abcdef"));
    body.end();
    await nextMacrotask();
    expect(types(frames)).toEqual([FrameType.responseBody]);
    expect(ended()).toBe(false);
    body.grant(2);
    expect(types(frames)).toEqual([FrameType.responseBody, FrameType.responseBody, FrameType.responseEnd]);
    expect(ended()).toBe(true);
  });

  it("on abandon, sends what the credit allows and no end", async () => {
    const { body, frames, ended } = harness({ windowBytes: 3 });
    body.push(Buffer.from("abcdef"));
    body.abandon();
    expect(frames.map(text)).toEqual(["abc"]);
    body.grant(10);
    body.end();
    await nextMacrotask();
    expect(frames.map(text)).toEqual(["abc"]);
    expect(ended()).toBe(false);
  });
});
