import { StreamDigest } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { StreamWitness } from "./stream-witness.js";

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const MiB = 1024 * 1024;

function witness(chunks: readonly string[]): ReturnType<StreamWitness["end"]> {
  const w = new StreamWitness();
  for (const chunk of chunks) w.push(enc(chunk));
  return w.end();
}

function digestOf(payloads: readonly string[]): string {
  const d = new StreamDigest();
  for (const p of payloads) d.add(p);
  return d.finish();
}

describe("StreamWitness", () => {
  it("digests every data payload in order and keeps the last usage, however the bytes are split", () => {
    const stream = 'data: {"n":1,"usage":null}\r\n\r\n: ping\r\n\r\ndata: {"usage":{"prompt_tokens":1,"total_tokens":1}}\r\n\r\ndata: {"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}\r\n\r\ndata: [DONE]\r\n\r\n';
    const whole = witness([stream]);
    const bytewise = witness([...stream]);
    const expected = { usage: { prompt_tokens: 4, completion_tokens: 6 }, bodyDigest: digestOf(['{"n":1,"usage":null}', '{"usage":{"prompt_tokens":1,"total_tokens":1}}', '{"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}', "[DONE]"]) };
    expect(whole).toEqual(expected);
    expect(bytewise).toEqual(expected);
  });

  it.each([
    ["without usage", ['data: {"n":1}\n\n', "data: [DONE]\n\n"]],
    ["without [DONE]", ['data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n']],
    ["with its last event unterminated", ['data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n', "data: [DONE]\n"]],
  ])("sees no receipt in a stream %s", (_, chunks) => {
    expect(witness(chunks)).toBeNull();
  });

  it("stops witnessing, so signs nothing, once more than 1 MiB waits for an event's blank line", () => {
    const line = `data: ${"x".repeat(64 * 1024)}`;
    const tail = ['\n\ndata: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n', "data: [DONE]\n\n"];
    const chunks = (bytes: number): string[] => [...Array.from({ length: Math.ceil(bytes / line.length) }, () => line), ...tail];
    // Just under the limit the event is still witnessed; past it, the answer gets no receipt even once it ends well.
    expect(witness(chunks(MiB - line.length))).not.toBeNull();
    expect(witness(chunks(MiB + 1))).toBeNull();
  });
});
