// POST /v1/responses passed through to nodes whose server serves the Responses API itself (they advertise
// `responses_api`): the client's request goes to the node's /v1/responses, its events come back untranslated, and the
// answer is metered, receipted, billed and failed over as strictly as chat. The liars sit behind a stock agent with
// `--responses-api` (fleet/responses-liar.ts), which signs whatever they report.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CHOICE_END_TOKENS } from "../src/billing/token-bounds.js";
import { FLEET_PRICE } from "./fleet/bindings.js";
import { LIE_TEXT, LONG_TEXT, RESPONSES_LIES } from "./fleet/responses-liar.js";
import { adminFetch, clientFetch, newNode, registerRoutable } from "./helpers.js";

const fleet = inject("fleet");

interface Row {
  prompt_tokens: number;
  completion_tokens: number;
  billable: boolean;
  receipt_status: string;
  node_id: string;
}

interface ResponseBody {
  object: string;
  status: string;
  output: { type: string; name?: string; call_id?: string; arguments?: string; content?: { text: string }[] }[];
  usage: { input_tokens: number; output_tokens: number };
}

/** The most completion tokens a liar's "hi there" may be billed for: its bytes and a choice's end. */
const LIE_BOUND = new TextEncoder().encode(LIE_TEXT.join("")).length + CHOICE_END_TOKENS;

async function passingNode(seed: string | undefined, url: string, models: readonly string[]): Promise<string> {
  const node = await newNode(seed);
  const res = await registerRoutable(node, {
    url,
    models: models.map((id) => ({ id, price: FLEET_PRICE, responses_api: true as const })),
  });
  expect(res.status).toBe(200);
  return node.id;
}

async function newKey(): Promise<string> {
  const res = await adminFetch("/admin/keys", { method: "POST", body: JSON.stringify({ name: "responses-pass" }) });
  return ((await res.json()) as { key: string }).key;
}

async function rowsOf(key: string, count: number): Promise<Row[]> {
  for (let i = 0; i < 200; i++) {
    const report = (await (await clientFetch("/v1/usage", key)).json()) as { data: Row[] };
    if (report.data.length >= count) return report.data;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`usage never reached ${count} rows`);
}

interface SimStats {
  byPath: Record<string, number>;
  lastBodyKeys: string[] | null;
}

async function simStats(): Promise<SimStats> {
  return (await (await fetch(`${fleet.nativeBackend}/sim/stats`)).json()) as SimStats;
}

async function passedThrough(): Promise<number> {
  return (await simStats()).byPath["/v1/responses"] ?? 0;
}

const post = (key: string, body: unknown) =>
  clientFetch("/v1/responses", key, { method: "POST", body: JSON.stringify(body) });

function events(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1] ?? "",
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>,
    }));
}

const weather = {
  type: "function",
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

let passingId = "";
let overclaimId = "";
beforeAll(async () => {
  passingId = await passingNode(fleet.passingSeed, fleet.passing, ["resp-pass", "resp-failover"]);
  // The liar's agent signs as this node; each other lie gets a node of its own (see lyingNode).
  overclaimId = await passingNode(fleet.responsesLiarSeed, fleet.responsesLiar, [RESPONSES_LIES.overclaim]);
  // A node that answers garbage for the model the honest node serves too.
  await passingNode(undefined, fleet.responsesLiar, ["resp-failover"]);
});

/**
 * A fresh node at the liar's agent serving only `model`, so one lie's failures (and the ejection they earn) do not
 * decide another's test. Its receipts name another node: they never count, and nothing here needs them to.
 */
async function lyingNode(model: string): Promise<void> {
  await passingNode(undefined, fleet.responsesLiar, [model]);
}

describe("POST /v1/responses passed through", () => {
  it("sends a whole request to the node's own /v1/responses and bills the usage its receipt confirms", async () => {
    const key = await newKey();
    const before = await passedThrough();
    const res = await post(key, {
      model: "resp-pass",
      input: "hello native mesh",
      max_output_tokens: 6,
      // Meshgate's routing controls: read by the gateway, never sent on.
      provider: { allow_fallbacks: true },
      models: ["resp-failover"],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as ResponseBody;
    // Cut by max_output_tokens, as the node says.
    expect(body).toMatchObject({ object: "response", status: "incomplete" });
    expect(body.output[0]?.content?.[0]?.text.split(" ")).toHaveLength(6);
    expect(await passedThrough()).toBe(before + 1);
    // The client's own body, streamed to the gateway and not stored.
    expect((await simStats()).lastBodyKeys?.sort()).toEqual(
      ["input", "max_output_tokens", "model", "store", "stream"].sort(),
    );
    const [row] = await rowsOf(key, 1);
    expect(row).toMatchObject({
      node_id: passingId,
      billable: true,
      receipt_status: "ok",
      prompt_tokens: body.usage.input_tokens,
      completion_tokens: body.usage.output_tokens,
    });
  });

  it("relays the node's own events for a streamed tool call round trip, and bills what each reported", async () => {
    const key = await newKey();
    const before = await passedThrough();
    const first = await post(key, { model: "resp-pass", input: "weather in Paris?", tools: [weather], stream: true });
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    const text = await first.text();
    expect(text).not.toContain("[DONE]");
    const last = events(text).at(-1)!;
    expect(last.event).toBe("response.completed");
    const response = last.data["response"] as ResponseBody;
    const call = response.output.find((o) => o.type === "function_call")!;
    expect(call.name).toBe("get_weather");
    const second = await post(key, {
      model: "resp-pass",
      stream: true,
      tools: [weather],
      input: [
        { role: "user", content: "weather in Paris?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "22 C and sunny" },
      ],
    });
    const answer = events(await second.text()).at(-1)!.data["response"] as ResponseBody;
    expect(answer.output.at(-1)?.type).toBe("message");
    expect(await passedThrough()).toBe(before + 2);
    const rows = await rowsOf(key, 2);
    const billed = rows.reduce((sum, r) => sum + r.completion_tokens, 0);
    expect(billed).toBe(response.usage.output_tokens + answer.usage.output_tokens);
    for (const row of rows) expect(row).toMatchObject({ billable: true, receipt_status: "ok" });
  });

  it("fails over from a node that answers garbage to one that serves the request", async () => {
    const key = await newKey();
    for (let i = 0; i < 4; i++) {
      const res = await post(key, { model: "resp-failover", input: "hello", max_output_tokens: 3 });
      expect(res.status).toBe(200);
      expect(((await res.json()) as ResponseBody).object).toBe("response");
      expect(res.headers.get("x-meshgate-node")).toBe(passingId);
    }
  });
});

describe("a node that advertises the Responses API and lies", () => {
  it.each([false, true])(
    "is billed no more than the text relayed when it over-reports usage (stream %s)",
    async (s) => {
      const key = await newKey();
      const res = await post(key, { model: RESPONSES_LIES.overclaim, input: "hi", stream: s });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const [row] = await rowsOf(key, 1);
      expect(row!.completion_tokens).toBeLessThanOrEqual(LIE_BOUND);
    },
  );

  it("has a stream that ends without response.completed cut short: an error event, billed within what it relayed", async () => {
    await lyingNode(RESPONSES_LIES.noCompleted);
    const key = await newKey();
    const res = await post(key, { model: RESPONSES_LIES.noCompleted, input: "hi", stream: true });
    const last = events(await res.text()).at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data).toMatchObject({ type: "error", code: "upstream_stream_error" });
    const [row] = await rowsOf(key, 1);
    expect(row!.completion_tokens).toBeLessThanOrEqual(LIE_BOUND);
  });

  it("loses trust for over-reporting, as a chat node does", async () => {
    for (let i = 0; i < 100; i++) {
      const nodes = (await (await adminFetch("/admin/nodes")).json()) as {
        data: { id: string; routing: { trust: number } }[];
      };
      if ((nodes.data.find((n) => n.id === overclaimId)?.routing.trust ?? 1) < 0.75) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("the over-reporting node's trust never fell");
  });

  it("turns a stream cut mid-answer into OpenAI's Responses error event", async () => {
    await lyingNode(RESPONSES_LIES.broken);
    const key = await newKey();
    const res = await post(key, { model: RESPONSES_LIES.broken, input: "hi", stream: true });
    const all = events(await res.text());
    expect(all.some((e) => e.event === "response.output_text.delta")).toBe(true);
    expect(all.at(-1)).toMatchObject({ event: "error", data: { type: "error", code: "upstream_stream_error" } });
    const [row] = await rowsOf(key, 1);
    expect(row!.completion_tokens).toBeLessThanOrEqual(LIE_BOUND);
  });

  it.each([
    [RESPONSES_LIES.noCompleted, false],
    [RESPONSES_LIES.chatStream, true],
    [RESPONSES_LIES.chatStream, false],
    [RESPONSES_LIES.garbage, true],
    [RESPONSES_LIES.garbage, false],
  ])("never passes %s (stream %s) off as an answer: the client gets a 502", async (model, stream) => {
    await lyingNode(model);
    const key = await newKey();
    const res = await post(key, { model, input: "hi", stream });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_error");
  });

  it("bills a client that did not stream for the Response it got, not for deltas it never saw", async () => {
    await lyingNode(RESPONSES_LIES.emptyFinal);
    const key = await newKey();
    const res = await post(key, { model: RESPONSES_LIES.emptyFinal, input: "hi" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ResponseBody;
    expect(JSON.stringify(body)).not.toContain(LONG_TEXT.trim());
    expect(body.output).toEqual([]);
    const [row] = await rowsOf(key, 1);
    expect(row!.completion_tokens).toBeLessThanOrEqual(CHOICE_END_TOKENS);
  });

  it("ends the stream at its response.completed: what follows is neither relayed, billed, nor followed by an error", async () => {
    await lyingNode(RESPONSES_LIES.afterCompleted);
    const key = await newKey();
    const res = await post(key, { model: RESPONSES_LIES.afterCompleted, input: "hi", stream: true });
    const text = await res.text();
    expect(text).not.toContain(LONG_TEXT.trim());
    const all = events(text);
    expect(all.filter((e) => e.event === "response.completed")).toHaveLength(1);
    expect(all.at(-1)?.event).toBe("response.completed");
    const [row] = await rowsOf(key, 1);
    expect(row!.completion_tokens).toBeLessThanOrEqual(LIE_BOUND);
  });

  it("fails over from a node that advertises the API but answers 404 at /v1/responses: never the client's 404", async () => {
    const model = RESPONSES_LIES.chatOnly;
    await lyingNode(model);
    const key = await newKey();
    const alone = await post(key, { model, input: "hi" });
    expect(alone.status).toBe(502);
    // A node serving the model by chat only is sent the request translated, and answers it.
    const chat = await newNode();
    const registered = await registerRoutable(chat, {
      url: fleet.responsesLiar,
      models: [{ id: model, price: FLEET_PRICE }],
    });
    expect(registered.status).toBe(200);
    for (const stream of [false, true, false, true]) {
      const res = await post(key, { model, input: "hi", stream });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-meshgate-node")).toBe(chat.id);
      await res.arrayBuffer();
    }
  });

  it.each([RESPONSES_LIES.afterError, RESPONSES_LIES.afterDone, RESPONSES_LIES.threadEvent])(
    "bills %s within what a client's SDK reads of its stream",
    async (model) => {
      await lyingNode(model);
      const key = await newKey();
      const res = await post(key, { model, input: "hi", stream: true });
      await res.arrayBuffer();
      const [row] = await rowsOf(key, 1);
      expect(row!.completion_tokens).toBeLessThanOrEqual(LIE_BOUND);
    },
  );
});
