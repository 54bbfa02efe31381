import { describe, expect, it } from "vitest";
import { parseStartOptions } from "./start-options.js";
import { UsageError } from "./usage-error.js";

const required = ["--gateway", "https://gw.example", "--upstream", "http://127.0.0.1:11434"];

describe("node-agent start options", () => {
  it("uses the documented defaults: session mode, nothing listens", () => {
    expect(parseStartOptions(required)).toEqual({
      gatewayUrl: "https://gw.example",
      upstreamUrl: "http://127.0.0.1:11434",
      listen: null,
      keyFile: "./node-key.json",
      models: undefined,
      capacity: 64,
      prices: new Map(),
      contextLengths: new Map(),
      receiptLog: "./node-key.json.receipts.jsonl",
      responsesApi: false,
    });
  });

  it("says the upstream serves the Responses API only with --responses-api", () => {
    expect(parseStartOptions([...required, "--responses-api"])).toMatchObject({ responsesApi: true });
  });

  it("keeps the receipt log next to the key file unless --receipt-log says where", () => {
    expect(parseStartOptions([...required, "--key-file", "/keys/a.json"])).toMatchObject({
      receiptLog: "/keys/a.json.receipts.jsonl",
    });
    expect(
      parseStartOptions([...required, "--key-file", "/keys/a.json", "--receipt-log", "/logs/r.jsonl"]),
    ).toMatchObject({ receiptLog: "/logs/r.jsonl" });
  });

  it("reads a price per model, splitting at the last = (a model id may contain one)", () => {
    const options = parseStartOptions([
      ...required,
      "--price",
      "llama3=150000:600000",
      "--price",
      "org/m=v2=0:1000000000000",
    ]);
    expect(options).toMatchObject({
      prices: new Map([
        ["llama3", { prompt: 150_000, completion: 600_000 }],
        ["org/m=v2", { prompt: 0, completion: 1_000_000_000_000 }],
      ]),
    });
  });

  it("accepts prices for models named in --models", () => {
    const options = parseStartOptions([...required, "--models", "a,b", "--price", "b=1:2"]);
    expect(options).toMatchObject({ models: ["a", "b"], prices: new Map([["b", { prompt: 1, completion: 2 }]]) });
  });

  it("reads a context length per model, splitting at the last =", () => {
    const options = parseStartOptions([
      ...required,
      "--context-length",
      "llama3=8192",
      "--context-length",
      "org/m=v2=10000000",
    ]);
    expect(options).toMatchObject({
      contextLengths: new Map([
        ["llama3", 8192],
        ["org/m=v2", 10_000_000],
      ]),
    });
    expect(parseStartOptions([...required, "--models", "a,b", "--context-length", "a=4096"])).toMatchObject({
      contextLengths: new Map([["a", 4096]]),
    });
  });

  it.each([
    ["0.0.0.0:9000", "0.0.0.0", 9000],
    ["[::1]:0", "::1", 0],
    ["9100", "127.0.0.1", 9100],
    [":9200", "127.0.0.1", 9200],
  ])("reads --listen %s", (listen, host, port) => {
    expect(parseStartOptions([...required, "--listen", listen])).toMatchObject({
      listen: { host, port, publicUrl: undefined },
    });
  });

  it("listens on the default address when only --public-url is given", () => {
    expect(parseStartOptions([...required, "--public-url", "https://node.example/"])).toMatchObject({
      listen: { host: "127.0.0.1", port: 8790, publicUrl: "https://node.example" },
    });
  });

  it("accepts an OpenAI-style base URL for the upstream and a model list", () => {
    const options = parseStartOptions([
      ...required,
      "--upstream",
      "http://localhost:1234/v1/",
      "--models",
      "llama3, qwen2 ,",
    ]);
    expect(options).toMatchObject({ upstreamUrl: "http://localhost:1234", models: ["llama3", "qwen2"] });
  });

  it.each([
    [["--upstream", "http://x"], "--gateway is required"],
    [[...required, "--listen", "nowhere"], "--listen must be HOST:PORT"],
    [[...required, "--capacity", "0"], "--capacity must be an integer"],
    [[...required, "--public-url", "ftp://x"], "--public-url must be an http(s) URL"],
    [[...required, "--price", "llama3=1:2", "--price", "llama3=3:4"], '--price names "llama3" twice'],
    [[...required, "--models", "a,b", "--price", "c=1:2"], '--price names "c", which is not in --models'],
    [[...required, "--price", "llama3=1000000000001:0"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "llama3=1.5:2"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "llama3=-1:2"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "llama3=1:2:3"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "llama3=1"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "=1:2"], "--price must be MODEL=PROMPT:COMPLETION"],
    [[...required, "--price", "1:2"], "--price must be MODEL=PROMPT:COMPLETION"],
    [
      [...required, "--context-length", "llama3=4096", "--context-length", "llama3=8192"],
      '--context-length names "llama3" twice',
    ],
    [
      [...required, "--models", "a,b", "--context-length", "c=4096"],
      '--context-length names "c", which is not in --models',
    ],
    [[...required, "--context-length", "llama3=0"], "--context-length must be MODEL=TOKENS"],
    [[...required, "--context-length", "llama3=10000001"], "--context-length must be MODEL=TOKENS"],
    [[...required, "--context-length", "llama3=4k"], "--context-length must be MODEL=TOKENS"],
    [[...required, "--context-length", "llama3=-1"], "--context-length must be MODEL=TOKENS"],
    [[...required, "--context-length", "=4096"], "--context-length must be MODEL=TOKENS"],
    [[...required, "--context-length", "4096"], "--context-length must be MODEL=TOKENS"],
  ])("refuses %j", (args, message) => {
    expect(() => parseStartOptions(args)).toThrow(UsageError);
    expect(() => parseStartOptions(args)).toThrow(message);
  });
});
