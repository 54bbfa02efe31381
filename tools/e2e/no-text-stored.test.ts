// No prompt or completion text is stored or logged. One end-to-end run with real processes (gateway under workerd
// with its Durable Objects persisted to disk, two node agents, the simulated backend) sends prompts carrying random
// markers through every inference route, including failures; then everything is stopped and every byte the Durable
// Objects left on disk, every line the gateway and the agents logged, and the usage and admin answers are searched
// for those markers and for the completions the client received.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimBackend, type SimBackend } from "@meshgate/sim-backend";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../gateway/gateway.js";
import { waitForNode } from "../gateway/nodes.js";
import { pollUntil, startNodeAgent, type NodeAgent } from "../processes/index.js";
import { CHAT_MODEL, EMBED_MODEL } from "./support/cluster.js";
import {
  capturingSink,
  completionNeedles,
  describeLeaks,
  findLeaks,
  markerNeedles,
  newMarkers,
  occursIn,
  promptWith,
  readTree,
  type Haystack,
  type Needle,
} from "./support/leak-scan.js";
import { newTestNode, send, signedHeartbeat } from "./support/heartbeat.js";
import { quietSink, recentOutput } from "./support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";
import { usageOnceRecorded } from "./support/usage.js";

const AGENTS = 2;

/** What the run left behind, gathered once everything has stopped. */
interface Evidence {
  /** Prompt markers and completion pieces: none may appear in storage, logs or responses. */
  needles: Needle[];
  /** The raw marker strings, to prove they were really sent. */
  markers: string[];
  /** Every request body the client sent. */
  sentBodies: string[];
  /** The completion texts the client received (all non-empty). */
  completions: string[];
  /** Requests a node answered: each must have left a usage row on disk. */
  meteredRequestIds: string[];
  nodeIds: string[];
  /** Every file under the persist directory. */
  stored: Haystack[];
  gatewayLog: string[];
  agentLogs: string[][];
  /** GET /v1/usage, /v1/nodes, /v1/models, /admin/keys, /admin/nodes as received. */
  responses: Haystack[];
  apiKey: string;
  adminToken: string;
}

function requestIdOf(response: Response): string {
  const id = response.headers.get("x-request-id");
  if (!id) throw new Error(`no x-request-id on a ${response.status} response`);
  return id;
}

/** The API error a request is expected to end with. */
async function failureOf(request: PromiseLike<unknown>): Promise<APIError> {
  try {
    await request;
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
  throw new Error("the request was expected to fail but succeeded");
}

async function getText(url: string, token: string): Promise<Haystack> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${text}`);
  return { where: `GET ${new URL(url).pathname}`, bytes: Buffer.from(text, "utf8") };
}

async function run(scratch: string): Promise<Evidence> {
  const persistDir = join(scratch, "state");
  mkdirSync(persistDir);
  const vars = generateDevVars();
  const gatewayLog: string[] = [];
  const agentLogs: string[][] = Array.from({ length: AGENTS }, () => []);
  // Stopped in reverse order: agents first, so nothing talks to a gateway that is going away, and the gateway last
  // but one, so workerd has closed its SQLite files before they are read.
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const backend: SimBackend = await startSimBackend({
      models: [CHAT_MODEL, EMBED_MODEL],
      log: quietSink("sim-backend"),
    });
    stops.push(() => backend.close());
    const gateway: Gateway = await startGateway({ vars, persistDir, sink: capturingSink("gateway", gatewayLog) });
    stops.push(() => gateway.stop());
    const agents: NodeAgent[] = await Promise.all(
      agentLogs.map((lines, i) =>
        startNodeAgent({
          name: `agent-${i + 1}`,
          gatewayUrl: gateway.url,
          upstreamUrl: backend.url,
          keyFile: join(scratch, `agent-${i + 1}.key`),
          sink: capturingSink(`agent-${i + 1}`, lines),
        }),
      ),
    );
    for (const agent of agents) stops.push(() => agent.process.stop());
    await Promise.all(agents.map((a) => waitForNode(gateway.url, a.nodeId)));
    const { key: apiKey } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "no-text-stored");

    const sentBodies: string[] = [];
    // Records what the SDK really put on the wire, for the sanity check that the markers were sent at all.
    const recordingFetch: typeof fetch = (input, init) => {
      if (typeof init?.body === "string") sentBodies.push(init.body);
      return fetch(input, init);
    };
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0, fetch: recordingFetch });

    const needles: Needle[] = [];
    const markers: string[] = [];
    const randomParts: string[] = [];
    const completions: string[] = [];
    const meteredRequestIds: string[] = [];
    /** A fresh prompt with fresh markers, registered as needles under `label`. */
    const prompt = (label: string): string => {
      const m = newMarkers();
      needles.push(...markerNeedles(m, label));
      markers.push(m.canary, m.canary2, m.unicode);
      randomParts.push(...m.hex);
      return promptWith(m);
    };
    const received = (label: string, text: string): void => {
      completions.push(text);
      needles.push(...completionNeedles(text, label, randomParts));
    };

    {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        { role: "system", content: prompt("chat system message") },
        { role: "user", content: [{ type: "text", text: prompt("chat user content part") }] },
        { role: "assistant", content: prompt("chat assistant message") },
        { role: "user", content: prompt("chat user message") },
      ];
      const { data, response } = await client.chat.completions.create({ model: CHAT_MODEL, messages }).withResponse();
      received("chat", data.choices[0]?.message.content ?? "");
      meteredRequestIds.push(requestIdOf(response));
    }
    for (const includeUsage of [false, true]) {
      const label = `chat streamed${includeUsage ? " with usage" : ""}`;
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: prompt(label) }];
      const { data: stream, response } = await client.chat.completions
        .create({
          model: CHAT_MODEL,
          messages,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        })
        .withResponse();
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      received(label, text);
      meteredRequestIds.push(requestIdOf(response));
    }
    {
      const { data, response } = await client.completions
        .create({ model: CHAT_MODEL, prompt: prompt("completion") })
        .withResponse();
      received("completion", data.choices[0]?.text ?? "");
      meteredRequestIds.push(requestIdOf(response));
    }
    {
      const { data: stream, response } = await client.completions
        .create({ model: CHAT_MODEL, prompt: [prompt("completion streamed")], stream: true })
        .withResponse();
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
      received("completion streamed", text);
      meteredRequestIds.push(requestIdOf(response));
    }
    {
      const input = [prompt("embeddings input 1"), prompt("embeddings input 2")];
      const { data, response } = await client.embeddings.create({ model: EMBED_MODEL, input }).withResponse();
      if (data.data.length !== input.length)
        throw new Error(`expected ${input.length} embeddings, got ${data.data.length}`);
      meteredRequestIds.push(requestIdOf(response));
    }

    // Failures: at the gateway (no node serves the model; a field the gateway validates) and at the node (the
    // backend refuses a parameter the gateway passes through untouched). Error paths are where bodies get logged.
    const unknownModel = await failureOf(
      client.chat.completions.create({
        model: "sim-no-such-model",
        messages: [{ role: "user", content: prompt("unknown model") }],
      }),
    );
    if (unknownModel.status !== 404 || unknownModel.code !== "model_not_found")
      throw new Error(`unknown model: ${unknownModel.status} ${unknownModel.message}`);
    const gatewayRefused = await failureOf(
      client.chat.completions.create({
        model: CHAT_MODEL,
        max_tokens: 0,
        messages: [{ role: "user", content: prompt("refused by the gateway") }],
      }),
    );
    if (gatewayRefused.status !== 400 || gatewayRefused.param !== "max_tokens")
      throw new Error(`gateway refusal: ${gatewayRefused.status} ${gatewayRefused.message}`);
    const nodeRefused = await failureOf(
      client.embeddings.create({ model: EMBED_MODEL, input: prompt("refused by the node"), dimensions: 0 }),
    );
    if (nodeRefused.status !== 400 || nodeRefused.param !== "dimensions")
      throw new Error(`node refusal: ${nodeRefused.status} ${nodeRefused.message}`);
    // A node's answer is metered whatever its status, so this one leaves a usage row too.
    meteredRequestIds.push(nodeRefused.requestID ?? "(no x-request-id)");
    {
      // Malformed JSON that still carries a prompt: the parse error must not quote it.
      const body = `{"model": "${CHAT_MODEL}", "messages": [{"role": "user", "content": ${JSON.stringify(prompt("malformed JSON"))}}`;
      sentBodies.push(body);
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body,
      });
      await response.body?.cancel();
      if (response.status !== 400) throw new Error(`malformed JSON answered ${response.status}`);
    }

    // Proof that the Worker's own console output reaches `gatewayLog`: with the direct socket the gateway serves on,
    // Miniflare's per-request lines never appear (they are written by its entry Worker, which is bypassed), so without
    // this the gateway half of the log check could be searching an empty log. A node whose URL cannot answer the
    // endpoint challenge makes the Worker warn "endpoint proof failed"; its model is one no request asks for.
    const probe = await newTestNode();
    const heartbeat = await send(
      await signedHeartbeat(gateway.url, probe, { url: "http://127.0.0.1:9", models: ["log-probe-model"], seq: 1 }),
    );
    if (heartbeat.status !== 200)
      throw new Error(`probe heartbeat answered ${heartbeat.status}: ${await heartbeat.text()}`);
    await pollUntil(async () => gatewayLog.some((line) => line.includes("endpoint proof failed")) || undefined, {
      what: "the Worker's warning about the probe node in the gateway log",
      timeoutMs: 15_000,
    });

    // Usage is written off the response path: wait until every metered request is in the ledger before stopping.
    await usageOnceRecorded(gateway.url, apiKey, meteredRequestIds.length);
    const responses = await Promise.all([
      getText(`${gateway.url}/v1/usage`, apiKey),
      getText(`${gateway.url}/v1/models`, apiKey),
      getText(`${gateway.url}/v1/nodes`, apiKey),
      getText(`${gateway.url}/admin/keys`, vars.ADMIN_TOKEN),
      getText(`${gateway.url}/admin/nodes`, vars.ADMIN_TOKEN),
    ]);

    await stopAll();
    return {
      needles,
      markers,
      sentBodies,
      completions,
      meteredRequestIds,
      nodeIds: agents.map((a) => a.nodeId),
      stored: readTree(persistDir),
      gatewayLog,
      agentLogs,
      responses,
      apiKey,
      adminToken: vars.ADMIN_TOKEN,
    };
  } catch (err) {
    await stopAll();
    // The processes' output is kept quiet while things work; when they do not, it is the first thing to read.
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nRecent output:\n${recentOutput()}`, {
      cause: err,
    });
  }
}

describe("no prompt or completion text is stored or logged", E2E, () => {
  let scratch: string;
  let evidence: Evidence;
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "meshgate-e2e-no-text-"));
    evidence = await run(scratch);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const logs = (): Haystack[] => [
    { where: "gateway log", bytes: Buffer.from(evidence.gatewayLog.join("\n"), "utf8") },
    ...evidence.agentLogs.map((lines, i) => ({
      where: `agent-${i + 1} log`,
      bytes: Buffer.from(lines.join("\n"), "utf8"),
    })),
  ];

  it("really sent the markers, and received completions made of them (the needles are real)", () => {
    const sent = evidence.sentBodies.join("\n");
    for (const marker of evidence.markers) expect(sent).toContain(marker);
    // The simulated model echoes the prompt's words, so each completion is built from the markers' random parts.
    expect(evidence.completions).toHaveLength(5);
    for (const text of evidence.completions) expect(text).toMatch(/canary [0-9a-f]{16}|ünïcødé [0-9a-f]{16}/u);
    expect(evidence.needles.filter((n) => n.what.endsWith("completion text")).length).toBeGreaterThan(
      evidence.completions.length,
    );
  });

  it("finds a needle written as UTF-8 or as UTF-16LE (the scanner itself works)", () => {
    const needle: Needle = { text: "ünïcødé-00112233445566778899", what: "probe" };
    const utf16 = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(needle.text, "utf16le"), Buffer.from([3])]);
    const found = findLeaks(
      [
        { where: "utf8", bytes: Buffer.from(`x${needle.text}y`, "utf8") },
        { where: "utf16", bytes: utf16 },
      ],
      [needle],
    );
    expect(found.map((l) => [l.where, l.encoding])).toEqual([
      ["utf8", "utf8"],
      ["utf16", "utf16le"],
    ]);
  });

  it("scans the real storage: the persisted Durable Objects hold every usage row and node", () => {
    const { stored } = evidence;
    expect(stored.some((f) => f.where.endsWith(".sqlite"))).toBe(true);
    expect(stored.reduce((n, f) => n + f.bytes.length, 0)).toBeGreaterThan(0);
    // Usage rows (UsageLedger) and registered nodes (NodeRegistry) are found by the very scan that finds no text.
    for (const id of evidence.meteredRequestIds) expect(occursIn(stored, id), `request id ${id} on disk`).toBe(true);
    for (const id of evidence.nodeIds) expect(occursIn(stored, id), `node id ${id} on disk`).toBe(true);
    console.info(
      `scanned ${stored.length} files:\n${stored.map((f) => `  ${f.where} ${f.bytes.length} B`).join("\n")}`,
    );
  });

  it("leaves no prompt or completion text in any file the Durable Objects wrote", () => {
    const named = evidence.stored.map((f) => ({
      where: `${f.where} (file name)`,
      bytes: Buffer.from(f.where, "utf8"),
    }));
    const leaks = findLeaks([...evidence.stored, ...named], evidence.needles);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it("logs no prompt or completion text in the gateway or the node agents", () => {
    // The sanity half: the captured logs are live (the Worker's own console output, the agents' events).
    expect(evidence.gatewayLog.some((line) => line.includes("endpoint proof failed"))).toBe(true);
    for (const lines of evidence.agentLogs) expect(lines.some((line) => line.includes("listening"))).toBe(true);
    const leaks = findLeaks(logs(), evidence.needles);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it("answers usage and admin requests without prompt or completion text", () => {
    const usage = evidence.responses.find((r) => r.where === "GET /v1/usage");
    for (const id of evidence.meteredRequestIds) expect(occursIn(usage ? [usage] : [], id)).toBe(true);
    const leaks = findLeaks(evidence.responses, evidence.needles);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });

  it("stores neither the API key nor the admin token (keys are kept as hashes)", () => {
    const secrets: Needle[] = [
      { text: evidence.apiKey, what: "API key" },
      { text: evidence.adminToken, what: "admin token" },
    ];
    const leaks = findLeaks([...evidence.stored, ...logs()], secrets);
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });
});
