import { describe, expect, it } from "vitest";
import { HttpError } from "../http/http-error.js";
import { orThrow } from "../http/refusal.js";
import { NO_CONTROLS, parseRoutingControls, type RoutingControls } from "./client-controls.js";

/** A valid node id: 43 base64url characters. */
const node = (n: number | string): string => String(n).padStart(43, "x");
const A = node("A");
const B = node("B");
const C = node("C-_");

const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
/** As the route reads them: a refusal is thrown as the client's error. */
const parse = (extra: Record<string, unknown>) => orThrow(parseRoutingControls({ ...base, ...extra }));
const controls = (extra: Record<string, unknown>) => parse(extra).controls;
const provider = (p: unknown) => controls({ provider: p });

interface Refusal {
  status: number;
  param: string | null;
  code: string | null;
  type: string;
  message: string;
}

function refusal(extra: Record<string, unknown>): Refusal | "ok" {
  try {
    parse(extra);
    return "ok";
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return { status: err.status, param: err.param, code: err.code, type: err.type, message: err.message };
  }
}

const invalid = (param: string) => ({
  status: 400,
  param,
  code: "invalid_routing_control",
  type: "invalid_request_error",
});
const unsupported = (param: string) => ({
  status: 400,
  param,
  code: "unsupported_routing_control",
  type: "invalid_request_error",
});

describe("NO_CONTROLS", () => {
  it("tries only the request's model, on any node, with fallbacks", () => {
    expect(NO_CONTROLS("m")).toEqual({
      models: ["m"],
      order: [],
      only: null,
      ignore: new Set(),
      sort: null,
      allowFallbacks: true,
      maxPrice: null,
    } satisfies RoutingControls);
  });

  it("hands out a fresh value each time, so one request cannot change another's", () => {
    const first = NO_CONTROLS("m");
    first.models.push("x");
    first.order.push(A);
    expect(NO_CONTROLS("m")).toEqual({ ...first, models: ["m"], order: [] });
  });
});

describe("parseRoutingControls: absent and null controls", () => {
  it("without provider or models, yields no controls and nothing stripped", () => {
    const result = orThrow(parseRoutingControls({ ...base }));
    expect(result.controls).toEqual(NO_CONTROLS("m"));
    expect(result.stripped).toBe(false);
    expect(result.body).toEqual(base);
  });

  it.each([
    ["provider: null", { provider: null }],
    ["models: null", { models: null }],
    ["both null", { provider: null, models: null }],
    ["empty provider", { provider: {} }],
    ["empty models", { models: [] }],
    [
      "every supported key null",
      { provider: { order: null, only: null, ignore: null, sort: null, allow_fallbacks: null, max_price: null } },
    ],
  ])("%s yields no controls, but is stripped", (_name, extra) => {
    const result = parse(extra);
    expect(result.controls).toEqual(NO_CONTROLS("m"));
    expect(result.stripped).toBe(true);
    expect(result.body).toEqual(base);
  });

  it.each([
    "require_parameters",
    "data_collection",
    "zdr",
    "enforce_distillable_text",
    "quantizations",
    "preferred_min_throughput",
    "preferred_max_latency",
  ])("accepts OpenRouter's %s when null, since it asks for nothing", (key) => {
    expect(provider({ [key]: null })).toEqual(NO_CONTROLS("m"));
  });

  it.each(["request", "image", "audio"])("accepts max_price.%s when null", (key) => {
    expect(provider({ max_price: { [key]: null } }).maxPrice).toBeNull();
  });
});

describe("parseRoutingControls: stripping", () => {
  const nested = { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } };
  const body = {
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0.2,
    stream: true,
    stream_options: { include_usage: true },
    response_format: nested,
    user: null,
    tools: [],
    provider: { sort: "price" },
    models: ["n"],
  };

  it("returns a new body without provider and models, every other field unchanged", () => {
    const result = orThrow(parseRoutingControls(body));
    const { provider: _p, models: _m, ...expected } = body;
    expect(result.stripped).toBe(true);
    expect(result.body).toEqual(expected);
    expect(Object.keys(result.body)).toEqual(Object.keys(expected));
    expect(result.body["response_format"]).toBe(nested);
  });

  it("leaves the caller's body untouched", () => {
    const copy = structuredClone(body);
    const result = orThrow(parseRoutingControls(body));
    expect(body).toEqual(copy);
    expect(result.body).not.toBe(body);
  });

  it("returns a new body even when nothing was stripped", () => {
    const plain = { ...base };
    const result = orThrow(parseRoutingControls(plain));
    expect(result.body).not.toBe(plain);
    expect(result.body).toEqual(plain);
  });

  it("keeps a JSON __proto__ key as plain data", () => {
    const parsed = JSON.parse('{"model":"m","__proto__":{"polluted":true},"provider":null}') as Record<
      string,
      unknown
    > & { model: string };
    const result = orThrow(parseRoutingControls(parsed));
    expect(Object.hasOwn(result.body, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(result.body)).toBe(Object.prototype);
  });
});

describe("parseRoutingControls: provider", () => {
  it("reads every supported control at once", () => {
    expect(
      provider({
        order: [B, A],
        only: [A, B, C],
        ignore: [node(1)],
        sort: "latency",
        allow_fallbacks: false,
        max_price: { prompt: 0.5, completion: 2 },
      }),
    ).toEqual({
      models: ["m"],
      order: [B, A],
      only: new Set([A, B, C]),
      ignore: new Set([node(1)]),
      sort: "latency",
      allowFallbacks: false,
      maxPrice: { prompt: 500_000, completion: 2_000_000 },
    } satisfies RoutingControls);
  });

  it.each(["latency", "throughput", "price"] as const)("accepts sort %s", (sort) => {
    expect(provider({ sort }).sort).toBe(sort);
  });

  it.each([
    [true, true],
    [false, false],
    [null, true],
  ])("allow_fallbacks %s means %s", (value, expected) => {
    expect(provider({ allow_fallbacks: value }).allowFallbacks).toBe(expected);
  });

  it("accepts each node list on its own", () => {
    expect(provider({ order: [A, B] })).toMatchObject({ order: [A, B], only: null, ignore: new Set() });
    expect(provider({ only: [A] })).toMatchObject({ order: [], only: new Set([A]), ignore: new Set() });
    expect(provider({ ignore: [A, B] })).toMatchObject({ order: [], only: null, ignore: new Set([A, B]) });
  });

  it("accepts empty order and ignore lists", () => {
    expect(provider({ order: [], ignore: [] })).toEqual(NO_CONTROLS("m"));
  });

  it("accepts an order that is a subset of only, in its own sequence", () => {
    expect(provider({ only: [A, B, C], order: [C, A] })).toMatchObject({ order: [C, A], only: new Set([A, B, C]) });
  });

  it("accepts disjoint only and ignore lists", () => {
    expect(provider({ only: [A], ignore: [B] })).toMatchObject({ only: new Set([A]), ignore: new Set([B]) });
  });

  it("accepts lists of 64 nodes", () => {
    const ids = Array.from({ length: 64 }, (_, i) => node(i));
    expect(provider({ order: ids, only: ids }).order).toEqual(ids);
    expect(provider({ ignore: ids }).ignore.size).toBe(64);
  });

  it("copies the lists, so later changes to the body do not reach the controls", () => {
    const order = [A];
    const result = provider({ order });
    order.push(B);
    expect(result.order).toEqual([A]);
  });
});

describe("parseRoutingControls: max_price", () => {
  it.each([
    [0.5, 500_000],
    [0, 0],
    [1, 1_000_000],
    [15, 15_000_000],
    [0.3, 300_000],
    [1.25, 1_250_000],
    [0.000001, 1],
    [1e-7, 0],
    [1e300, Number.MAX_SAFE_INTEGER],
  ])("converts %s USD per million tokens to %s micro-units", (usd, micros) => {
    expect(provider({ max_price: { prompt: usd } }).maxPrice).toEqual({ prompt: micros, completion: null });
    expect(provider({ max_price: { completion: usd } }).maxPrice).toEqual({ prompt: null, completion: micros });
  });

  it("always yields integers", () => {
    for (const usd of [0.1, 0.2, 0.7, 3.3, 0.123456789]) {
      expect(Number.isInteger(provider({ max_price: { prompt: usd } }).maxPrice?.prompt)).toBe(true);
    }
  });

  it.each([
    ["an empty object", {}],
    ["both null", { prompt: null, completion: null }],
  ])("treats %s as no ceiling", (_name, maxPrice) => {
    expect(provider({ max_price: maxPrice }).maxPrice).toBeNull();
  });
});

describe("parseRoutingControls: models", () => {
  it.each([
    [[], ["m"]],
    [["m"], ["m"]],
    [["a"], ["m", "a"]],
    [
      ["a", "b"],
      ["m", "a", "b"],
    ],
    [
      ["a", "m", "a", "b", "b"],
      ["m", "a", "b"],
    ],
    [
      ["b", "a"],
      ["m", "b", "a"],
    ],
  ])("models %j gives %j", (models, expected) => {
    expect(controls({ models }).models).toEqual(expected);
  });

  it("accepts 8 fallback models, and long model ids", () => {
    const eight = Array.from({ length: 8 }, (_, i) => `model-${i}`);
    expect(controls({ models: eight }).models).toEqual(["m", ...eight]);
    expect(controls({ models: ["x".repeat(256)] }).models).toEqual(["m", "x".repeat(256)]);
  });

  it("combines with provider controls", () => {
    expect(controls({ models: ["a"], provider: { sort: "price" } })).toMatchObject({
      models: ["m", "a"],
      sort: "price",
    });
  });

  it("allows allow_fallbacks false when models names only the request's model", () => {
    expect(controls({ models: ["m", "m"], provider: { allow_fallbacks: false } })).toMatchObject({
      models: ["m"],
      allowFallbacks: false,
    });
    expect(controls({ models: [], provider: { allow_fallbacks: false } }).models).toEqual(["m"]);
  });
});

describe("parseRoutingControls: malformed values", () => {
  const ids65 = Array.from({ length: 65 }, (_, i) => node(i));
  it.each<[string, Record<string, unknown>, string]>([
    ["provider as a string", { provider: "fast" }, "provider"],
    ["provider as an array", { provider: [] }, "provider"],
    ["provider as a number", { provider: 1 }, "provider"],
    ["provider as a boolean", { provider: true }, "provider"],
    ["models as a string", { models: "a" }, "models"],
    ["models as an object", { models: { 0: "a" } }, "models"],
    ["9 fallback models", { models: Array.from({ length: 9 }, (_, i) => `m${i}`) }, "models"],
    ["a number in models", { models: [1] }, "models[0]"],
    ["an empty model id", { models: ["a", ""] }, "models[1]"],
    ["a model id over 256 characters", { models: ["a", "x".repeat(257)] }, "models[1]"],
    ["null in models", { models: ["a", null] }, "models[1]"],
    ["sort not one of the three", { provider: { sort: "fastest" } }, "provider.sort"],
    ["sort in the wrong case", { provider: { sort: "Price" } }, "provider.sort"],
    ["sort as a number", { provider: { sort: 1 } }, "provider.sort"],
    ["sort as an array", { provider: { sort: ["price"] } }, "provider.sort"],
    ["allow_fallbacks as a string", { provider: { allow_fallbacks: "false" } }, "provider.allow_fallbacks"],
    ["allow_fallbacks as a number", { provider: { allow_fallbacks: 0 } }, "provider.allow_fallbacks"],
    ["max_price as a number", { provider: { max_price: 5 } }, "provider.max_price"],
    ["max_price as a string", { provider: { max_price: "1" } }, "provider.max_price"],
    ["max_price as an array", { provider: { max_price: [1] } }, "provider.max_price"],
    ["completion as a string", { provider: { max_price: { completion: "2" } } }, "provider.max_price.completion"],
    [
      "completion negative",
      { provider: { max_price: { prompt: 1, completion: -1 } } },
      "provider.max_price.completion",
    ],
  ])("refuses %s", (_name, extra, param) => {
    expect(refusal(extra)).toMatchObject(invalid(param));
  });

  it.each<[string, unknown]>([
    ["negative", -1],
    ["slightly negative", -0.0001],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", Number.NEGATIVE_INFINITY],
    ["a numeric string", "0.5"],
    ['the string "NaN"', "NaN"],
    ["a boolean", true],
    ["an object", { usd: 1 }],
    ["an array", [1]],
  ])("refuses a max_price.prompt that is %s", (_name, value) => {
    const result = refusal({ provider: { max_price: { prompt: value } } });
    expect(result).toMatchObject(invalid("provider.max_price.prompt"));
    expect(result !== "ok" && result.message).toContain("US dollars per million tokens");
  });

  describe.each(["order", "only", "ignore"])("provider.%s", (list) => {
    const at = `provider.${list}`;
    it.each<[string, unknown, string]>([
      ["a string", A, at],
      ["an object", { 0: A }, at],
      ["a number", 1, at],
      ["65 entries", ids65, at],
      ["a provider name", [A, "openai"], `${at}[1]`],
      ["a number entry", [A, 5], `${at}[1]`],
      ["a null entry", [null], `${at}[0]`],
      ["an id one character short", [A.slice(1)], `${at}[0]`],
      ["an id one character long", [`${A}x`], `${at}[0]`],
      ["an id with standard base64 characters", [`${A.slice(2)}+/`], `${at}[0]`],
      ["an id with padding", [`${A.slice(1)}=`], `${at}[0]`],
      ["a repeated id", [A, B, A], `${at}[2]`],
    ])("refuses %s", (_name, value, param) => {
      expect(refusal({ provider: { [list]: value } })).toMatchObject(invalid(param));
    });

    it("explains what a node id is when given a provider name", () => {
      const result = refusal({ provider: { [list]: ["openai"] } });
      expect(result !== "ok" && result.message).toMatch(/node id.*GET \/v1\/nodes.*"openai"/);
    });
  });
});

describe("parseRoutingControls: contradictions", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["an empty only list", { provider: { only: [] } }, "provider.only"],
    ["a node in both only and ignore", { provider: { only: [A, B], ignore: [C, B] } }, "provider.ignore[1]"],
    ["a node in both order and ignore", { provider: { order: [A, B], ignore: [B] } }, "provider.order[1]"],
    ["an order entry not in only", { provider: { only: [A], order: [A, C] } }, "provider.order[1]"],
    ["fallback models with allow_fallbacks false", { provider: { allow_fallbacks: false }, models: ["a"] }, "models"],
    [
      "fallback models (with the primary) and allow_fallbacks false",
      { provider: { allow_fallbacks: false }, models: ["m", "a"] },
      "models",
    ],
  ])("refuses %s", (_name, extra, param) => {
    expect(refusal(extra)).toMatchObject(invalid(param));
  });

  it("says which lists disagree", () => {
    const result = refusal({ provider: { only: [A], ignore: [A] } });
    expect(result !== "ok" && result.message).toContain(`Node ${A} is in both provider.only and provider.ignore`);
  });

  it("reports a malformed field before a contradiction between lists", () => {
    expect(refusal({ provider: { only: [A], ignore: [A], sort: "fast" } })).toMatchObject(invalid("provider.sort"));
  });
});

describe("parseRoutingControls: unsupported and unknown keys", () => {
  it.each<[string, unknown]>([
    ["require_parameters", true],
    ["require_parameters", false],
    ["data_collection", "deny"],
    ["zdr", true],
    ["enforce_distillable_text", true],
    ["quantizations", ["int8"]],
    ["preferred_min_throughput", 50],
    ["preferred_max_latency", { p90: 2 }],
  ])("refuses OpenRouter's provider.%s (%j) as unsupported", (key, value) => {
    const result = refusal({ provider: { [key]: value } });
    expect(result).toMatchObject(unsupported(`provider.${key}`));
    expect(result !== "ok" && result.message).toContain("not supported by Meshgate");
  });

  it.each(["request", "image", "audio"])("refuses OpenRouter's max_price.%s as unsupported", (key) => {
    const result = refusal({ provider: { max_price: { prompt: 1, [key]: 1 } } });
    expect(result).toMatchObject(unsupported(`provider.max_price.${key}`));
    expect(result !== "ok" && result.message).toContain("not supported by Meshgate");
  });

  it("refuses sort in OpenRouter's object form as unsupported", () => {
    const result = refusal({ provider: { sort: { by: "price", partition: "model" } } });
    expect(result).toMatchObject(unsupported("provider.sort"));
    expect(result !== "ok" && result.message).toContain("not supported by Meshgate");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a made-up key", { provider: { fastest: true } }, "provider.fastest"],
    ["a camelCase spelling", { provider: { allowFallbacks: false } }, "provider.allowFallbacks"],
    ["a key in the wrong case", { provider: { Order: [A] } }, "provider.Order"],
    ["an unknown key set to null", { provider: { fastest: null } }, "provider.fastest"],
    [
      "a JSON __proto__ key",
      { provider: JSON.parse('{"__proto__":{"sort":"price"}}') as unknown },
      "provider.__proto__",
    ],
    ["an unknown max_price key", { provider: { max_price: { output: 1 } } }, "provider.max_price.output"],
  ])("refuses %s as invalid, naming it", (_name, extra, param) => {
    const result = refusal(extra);
    expect(result).toMatchObject(invalid(param));
    expect(result !== "ok" && result.message).toContain(param);
  });

  it("lists the accepted keys in the message", () => {
    const result = refusal({ provider: { fastest: true } });
    expect(result !== "ok" && result.message).toContain("order, only, ignore, sort, allow_fallbacks, max_price");
  });

  it("cuts a huge key name short in param and message", () => {
    const key = "k".repeat(10_000);
    const result = refusal({ provider: { [key]: 1 } });
    expect(result).toMatchObject({ status: 400, code: "invalid_routing_control" });
    expect(result !== "ok" && result.param?.length).toBeLessThan(100);
    expect(result !== "ok" && result.message.length).toBeLessThan(300);
  });
});
