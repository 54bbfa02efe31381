import { describe, expect, it } from "vitest";
import { z } from "zod";
import { HttpError } from "./http-error.js";
import { jsonDepth, MAX_JSON_DEPTH, paramPath, readJson } from "./json-body.js";

const Schema = z.object({ model: z.string(), messages: z.array(z.object({ role: z.string() })) });

function post(body: string, headers: Record<string, string> = { "content-type": "application/json" }): Request {
  return new Request("http://x/", { method: "POST", body, headers });
}

async function status(
  p: Promise<unknown>,
): Promise<{ status: number; param: string | null; code: string | null } | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return { status: err.status, param: err.param, code: err.code };
  }
}

describe("readJson", () => {
  it("returns the parsed value and the exact bytes", async () => {
    const text = '{"model":"m","messages":[{"role":"user"}]}';
    const { value, bytes } = await readJson(post(text), Schema);
    expect(value.model).toBe("m");
    expect(new TextDecoder().decode(bytes)).toBe(text);
  });

  it("answers 400 invalid_json for broken JSON and invalid UTF-8", async () => {
    expect(await status(readJson(post("{nope"), Schema))).toEqual({ status: 400, param: null, code: "invalid_json" });
    const bad = new Request("http://x/", { method: "POST", body: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(await status(readJson(bad, Schema))).toMatchObject({ status: 400, code: "invalid_json" });
  });

  it("names the offending field in param", async () => {
    expect(await status(readJson(post('{"model":"m","messages":[{"role":1}]}'), Schema))).toEqual({
      status: 400,
      param: "messages[0].role",
      code: "invalid_value",
    });
    expect(await status(readJson(post('{"messages":[]}'), Schema))).toMatchObject({ param: "model" });
  });

  it("answers 413 past the size limit, whether declared or streamed", async () => {
    expect(await status(readJson(post("x".repeat(100)), Schema, 10))).toMatchObject({ status: 413 });
    const chunked = new Request("http://x/", {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(8));
          c.enqueue(new Uint8Array(8));
          c.close();
        },
      }),
    });
    expect(await status(readJson(chunked, Schema, 10))).toMatchObject({ status: 413 });
  });

  it("answers 415 for a non-JSON content type, but accepts curl's default form type", async () => {
    expect(await status(readJson(post("{}", { "content-type": "text/xml" }), Schema))).toMatchObject({ status: 415 });
    const curl = post('{"model":"m","messages":[{"role":"user"}]}', {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(await status(readJson(curl, Schema))).toBe("ok");
  });
});

describe("paramPath", () => {
  it("formats nested paths like OpenAI's param", () => {
    expect(paramPath(["messages", 2, "content"])).toBe("messages[2].content");
    expect(paramPath([])).toBeNull();
  });
});

describe("nesting limit", () => {
  it("measures depth outside strings only", () => {
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('{"a":"[[[[{{{{\\"[["}')).toBe(1);
    expect(jsonDepth("42")).toBe(0);
  });

  it("answers 400 json_too_deep past the limit, and accepts the limit itself", async () => {
    const nested = (n: number) => `{"model":"m","messages":[{"role":"user"}],"x":${"[".repeat(n)}${"]".repeat(n)}}`;
    expect(await status(readJson(post(nested(MAX_JSON_DEPTH - 1)), Schema))).toBe("ok");
    expect(await status(readJson(post(nested(MAX_JSON_DEPTH)), Schema))).toEqual({
      status: 400,
      param: null,
      code: "json_too_deep",
    });
    expect(await status(readJson(post(nested(100_000)), Schema))).toEqual({
      status: 400,
      param: null,
      code: "json_too_deep",
    });
  });
});
