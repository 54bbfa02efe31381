import { describe, expect, it } from "vitest";
import { parseStartOptions } from "./start-options.js";
import { UsageError } from "./usage-error.js";

const required = ["--gateway", "https://gw.example", "--upstream", "http://127.0.0.1:11434"];

describe("node-agent start options", () => {
  it("uses the documented defaults", () => {
    expect(parseStartOptions(required)).toEqual({
      gatewayUrl: "https://gw.example",
      upstreamUrl: "http://127.0.0.1:11434",
      listenHost: "127.0.0.1",
      listenPort: 8790,
      publicUrl: undefined,
      keyFile: "./node-key.json",
      models: undefined,
      capacity: 64,
    });
  });

  it.each([
    ["0.0.0.0:9000", "0.0.0.0", 9000],
    ["[::1]:0", "::1", 0],
    ["9100", "127.0.0.1", 9100],
    [":9200", "127.0.0.1", 9200],
  ])("reads --listen %s", (listen, host, port) => {
    expect(parseStartOptions([...required, "--listen", listen])).toMatchObject({ listenHost: host, listenPort: port });
  });

  it("accepts an OpenAI-style base URL for the upstream and a model list", () => {
    const options = parseStartOptions([...required, "--upstream", "http://localhost:1234/v1/", "--models", "llama3, qwen2 ,"]);
    expect(options).toMatchObject({ upstreamUrl: "http://localhost:1234", models: ["llama3", "qwen2"] });
  });

  it.each([
    [["--upstream", "http://x"], "--gateway is required"],
    [[...required, "--listen", "nowhere"], "--listen must be HOST:PORT"],
    [[...required, "--capacity", "0"], "--capacity must be an integer"],
    [[...required, "--public-url", "ftp://x"], "--public-url must be an http(s) URL"],
  ])("refuses %j", (args, message) => {
    expect(() => parseStartOptions(args)).toThrow(UsageError);
    expect(() => parseStartOptions(args)).toThrow(message);
  });
});
