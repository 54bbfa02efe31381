import { describe, expect, it } from "vitest";
import { includeUsage } from "./include-usage.js";

const CHAT = "/v1/chat/completions";
const bytes = (text: string): Buffer => Buffer.from(text);

describe("includeUsage", () => {
  it("asks for usage in a streamed request without stream_options, the gateway's bytes otherwise kept", () => {
    // An integer past 2^53 survives: the body is not written again.
    const body = ' {"model":"m","stream":true,"seed":12345678901234567890}';
    const sent = includeUsage(CHAT, bytes(body));
    expect(sent.hideUsage).toBe(true);
    expect(sent.body.toString()).toBe(' {"stream_options":{"include_usage":true},"model":"m","stream":true,"seed":12345678901234567890}');
    expect(includeUsage("/v1/completions", bytes(body)).hideUsage).toBe(true);
  });

  it.each([
    ['{"model":"m","stream":true,"stream_options":{"continuous_usage_stats":true}}', { continuous_usage_stats: true, include_usage: true }],
    ['{"model":"m","stream":true,"stream_options":{"include_usage":false}}', { include_usage: true }],
    ['{"model":"m","stream":true,"stream_options":null}', { include_usage: true }],
  ])("keeps the stream_options already asked for in %s", (body, streamOptions) => {
    const sent = includeUsage(CHAT, bytes(body));
    expect(sent.hideUsage).toBe(true);
    expect(JSON.parse(sent.body.toString())).toEqual({ model: "m", stream: true, stream_options: streamOptions });
  });

  it.each([
    [CHAT, '{"model":"m","stream":true,"stream_options":{"include_usage":true}}'],
    [CHAT, '{"model":"m"}'],
    [CHAT, '{"model":"m","stream":"true"}'],
    [CHAT, "not json"],
    [CHAT, "[1]"],
    ["/v1/embeddings", '{"model":"m","input":"x","stream":true}'],
  ])("sends %s %s as it is, hiding nothing", (path, body) => {
    const buffer = bytes(body);
    expect(includeUsage(path, buffer)).toEqual({ body: buffer, hideUsage: false });
    expect(includeUsage(path, buffer).body).toBe(buffer);
  });
});
