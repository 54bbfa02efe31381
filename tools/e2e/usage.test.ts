// Metering: what GET /v1/usage reports for a key is exactly what its responses told the client, and streams are
// metered even when the client did not ask to see usage. Usage is written ~20-50 ms after each response, off the
// response path, so the ledger is polled until the requests are there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../gateway/admin.js";
import { CHAT_MODEL, EMBED_MODEL, startCluster, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { usageOnceRecorded } from "./support/usage.js";

interface Counted {
  prompt_tokens: number;
  completion_tokens?: number | undefined;
  total_tokens: number;
}

function shown(usage: Counted | null | undefined): Counted {
  if (!usage) throw new Error("the response showed the client no usage");
  return usage;
}

describe("usage metering", E2E, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ agents: 2, name: "usage" });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("reports totals equal to the usage the client received", async () => {
    const { client } = cluster;
    const messages = [{ role: "user" as const, content: "Count the tokens of this prompt, please." }];
    const seen: { usage: Counted; requestId: string | null }[] = [];
    const chat = await client.chat.completions.create({ model: CHAT_MODEL, messages }).withResponse();
    seen.push({ usage: shown(chat.data.usage), requestId: chat.response.headers.get("x-request-id") });
    const streamed = await client.chat.completions
      .create({ model: CHAT_MODEL, messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let streamedUsage: Counted | undefined;
    for await (const chunk of streamed.data) streamedUsage = chunk.usage ?? streamedUsage;
    seen.push({ usage: shown(streamedUsage), requestId: streamed.response.headers.get("x-request-id") });
    const completion = await client.completions
      .create({ model: CHAT_MODEL, prompt: "A prompt to complete" })
      .withResponse();
    seen.push({ usage: shown(completion.data.usage), requestId: completion.response.headers.get("x-request-id") });
    const embedding = await client.embeddings.create({ model: EMBED_MODEL, input: "embed these words" }).withResponse();
    seen.push({ usage: embedding.data.usage, requestId: embedding.response.headers.get("x-request-id") });

    const report = await usageOnceRecorded(cluster.gateway.url, cluster.apiKey, seen.length);
    const sum = (pick: (u: Counted) => number) => seen.reduce((total, s) => total + pick(s.usage), 0);
    expect(report.totals).toMatchObject({
      requests: seen.length,
      prompt_tokens: sum((u) => u.prompt_tokens),
      completion_tokens: sum((u) => u.completion_tokens ?? 0),
      total_tokens: sum((u) => u.total_tokens),
    });
    expect(report.data.map((r) => r.request_id).sort()).toEqual(seen.map((s) => s.requestId).sort());
  });

  it("meters a stream whose client did not ask for usage", async () => {
    const { key } = await createApiKey(cluster.gateway.url, cluster.adminToken, "hidden-usage");
    const client = cluster.clientWithKey(key);
    const messages = [{ role: "user" as const, content: "Stream me something, no usage please." }];
    const hidden = await client.chat.completions.create({ model: CHAT_MODEL, messages, stream: true }).withResponse();
    for await (const chunk of hidden.data) expect(chunk.usage ?? null).toBeNull();

    // The same prompt with usage shown (the backend is deterministic) says what the hidden stream cost.
    let expected: Counted | undefined;
    for await (const chunk of await client.chat.completions.create({
      model: CHAT_MODEL,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })) {
      expected = chunk.usage ?? expected;
    }
    const report = await usageOnceRecorded(cluster.gateway.url, key, 2);
    const row = report.data.find((r) => r.request_id === hidden.response.headers.get("x-request-id"));
    expect(row).toMatchObject({ streamed: true, model: CHAT_MODEL, status: 200, ...shown(expected) });
    expect(row?.total_tokens).toBeGreaterThan(0);
  });
});
