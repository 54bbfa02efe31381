import { describe, expect, it } from "vitest";
import {
  decodeCredit,
  decodeFrame,
  encodeCredit,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameType,
  MAX_FRAME_PAYLOAD_BYTES,
  NodeMessageSchema,
  RelayedResponseSchema,
} from "./session.js";

describe("session frames", () => {
  it("round-trip type, stream and payload, including the largest stream id", () => {
    const payload = new TextEncoder().encode("data: {}\n\n");
    const frame = decodeFrame(encodeFrame(FrameType.responseBody, 0xffff_ffff, payload));
    expect(frame?.type).toBe(FrameType.responseBody);
    expect(frame?.stream).toBe(0xffff_ffff);
    expect(new TextDecoder().decode(frame?.payload)).toBe("data: {}\n\n");
  });

  it("decode a frame that is a view into a larger buffer", () => {
    const inner = encodeFrame(FrameType.responseEnd, 7);
    const outer = new Uint8Array(inner.byteLength + 10);
    outer.set(inner, 10);
    expect(decodeFrame(outer.subarray(10))).toMatchObject({ type: FrameType.responseEnd, stream: 7 });
  });

  it("refuse what a hostile peer could send: short, unknown type, stream 0, oversized", () => {
    expect(decodeFrame(new Uint8Array(4))).toBeNull();
    expect(decodeFrame(Uint8Array.of(99, 0, 0, 0, 1))).toBeNull();
    expect(decodeFrame(encodeFrame(FrameType.responseEnd, 0))).toBeNull();
    expect(decodeFrame(new Uint8Array(FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES + 1).fill(17))).toBeNull();
    expect(decodeFrame(encodeFrame(FrameType.responseBody, 1, new Uint8Array(MAX_FRAME_PAYLOAD_BYTES)))).not.toBeNull();
  });

  it("carry credit as a u32 and refuse any other length", () => {
    expect(decodeCredit(encodeCredit(1_048_576))).toBe(1_048_576);
    expect(decodeCredit(new Uint8Array(3))).toBeNull();
  });

  it("validate what a node says: its state, and an answer head", () => {
    expect(NodeMessageSchema.safeParse({ type: "state", models: [{ id: "m" }], capacity: 4 }).success).toBe(true);
    expect(NodeMessageSchema.safeParse({ type: "state", models: [], capacity: 0 }).success).toBe(false);
    expect(NodeMessageSchema.safeParse({ type: "state", models: [], capacity: 1, in_flight: 3 }).success).toBe(false);
    expect(
      RelayedResponseSchema.safeParse({ status: 200, headers: [["content-type", "text/event-stream"]] }).success,
    ).toBe(true);
    expect(RelayedResponseSchema.safeParse({ status: 700, headers: [] }).success).toBe(false);
  });
});
