// The gateway as an OpenAI client sees it: the official SDK, pointed at the gateway, served by real node agents in
// front of a simulated backend.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL, EMBED_MODEL, startCluster, TRANSPORTS, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const messages = [{ role: "user" as const, content: "Say something about meshes." }];

describe.each(TRANSPORTS)("OpenAI-compatible API through the gateway (%s)", E2E, (transport) => {
  let cluster: Cluster;
  let nodeIds: string[];

  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: `openai-${transport}`, session: transport === "session" });
    nodeIds = cluster.agents.map((a) => a.nodeId);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("lists the models the nodes serve", async () => {
    const ids: string[] = [];
    for await (const model of cluster.client.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual([CHAT_MODEL, EMBED_MODEL].sort());
  });

  it("answers a chat completion, naming the request and the node that served it", async () => {
    const { data, response } = await cluster.client.chat.completions
      .create({ model: CHAT_MODEL, messages })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(nodeIds).toContain(response.headers.get("x-meshgate-node"));
  });

  it("streams a chat completion without usage when the client did not ask for it", async () => {
    const { data: stream, response } = await cluster.client.chat.completions
      .create({ model: CHAT_MODEL, messages, stream: true })
      .withResponse();
    expect(nodeIds).toContain(response.headers.get("x-meshgate-node"));
    let text = "";
    for await (const chunk of stream) {
      expect(chunk.usage ?? null).toBeNull();
      text += chunk.choices[0]?.delta.content ?? "";
    }
    const whole = await cluster.client.chat.completions.create({ model: CHAT_MODEL, messages });
    // The simulated backend is deterministic: streamed and whole replies to one prompt are the same text.
    expect(text).toBe(whole.choices[0]?.message.content);
  });

  it("streams a chat completion with exactly one usage chunk, last, when asked", async () => {
    const stream = await cluster.client.chat.completions.create({
      model: CHAT_MODEL,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const withUsage = chunks.filter((c) => c.usage);
    expect(withUsage).toHaveLength(1);
    // The SDK stops at [DONE], so the last chunk it yields is the one just before it.
    expect(chunks.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it("answers a text completion, streamed and not", async () => {
    const completion = await cluster.client.completions.create({ model: CHAT_MODEL, prompt: "Once upon a time" });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]?.text).toBeTruthy();
    let streamed = "";
    for await (const chunk of await cluster.client.completions.create({
      model: CHAT_MODEL,
      prompt: "Once upon a time",
      stream: true,
    })) {
      streamed += chunk.choices[0]?.text ?? "";
    }
    expect(streamed).toBe(completion.choices[0]?.text);
  });

  it("answers embeddings", async () => {
    const result = await cluster.client.embeddings.create({ model: EMBED_MODEL, input: ["first text", "second text"] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("refuses a wrong API key with 401", async () => {
    const request = cluster
      .clientWithKey("mg-this-key-does-not-exist")
      .chat.completions.create({ model: CHAT_MODEL, messages });
    const err = await request.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const err = await cluster.client.chat.completions.create({ model: "no-such-model", messages }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
  });
});
