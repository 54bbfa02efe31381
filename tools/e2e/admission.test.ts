// Issue 15's acceptance: the gateway served from 4 isolates (as production's many), three agents of capacity 4 in front
// of backends answering in ~100 ms. Every slot is granted by the nodes' admission cell, so no backend ever sees more
// than 4 requests at once whatever the number of isolates; 10 clients (fewer than the 12 slots) meet no refusal; what
// the mesh cannot take is refused in a way a client can retry. And a fresh mesh takes a burst up to its capacity.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHAT_MODEL, startCluster, TRANSPORTS, type Cluster } from "./support/cluster.js";
import { E2E, SETUP_TIMEOUT_MS } from "./support/timeouts.js";

const ISOLATES = 4;
/** Two admission cells, so the isolates also choose between cells (the three nodes fall where cellOf puts them). */
const CELLS = { ADMISSION_CELLS: "2" };
const CAPACITY = 4;
const BACKEND_LATENCY_MS = 100;

interface Load {
  answered: number;
  /** Status, code and Retry-After of every request that was not answered. */
  refused: { status: number; code: string; retryAfter: string | null }[];
}

/** `clients` clients, each sending one chat after another for `durationMs`. */
/** One chat request; counted into `result`. */
async function chat(cluster: Cluster, content: string, result: Load): Promise<void> {
  const res = await fetch(`${cluster.gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${cluster.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content }], max_tokens: 4 }),
  });
  const body = (await res.json()) as { error?: { code?: string } };
  if (res.status === 200) result.answered += 1;
  else
    result.refused.push({
      status: res.status,
      code: body.error?.code ?? "",
      retryAfter: res.headers.get("retry-after"),
    });
}

async function load(cluster: Cluster, clients: number, durationMs: number): Promise<Load> {
  const end = Date.now() + durationMs;
  const result: Load = { answered: 0, refused: [] };
  const client = async (id: number): Promise<void> => {
    for (let i = 0; Date.now() < end; i++) await chat(cluster, `client ${id} request ${i}`, result);
  };
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  return result;
}

/** Refusals a client can act on: 429 or 503, with Retry-After. */
const retryable = (l: Load): Load["refused"] =>
  l.refused.filter((r) => [429, 503].includes(r.status) && r.retryAfter !== null);

const summary = (l: Load, peaks: number[]): string =>
  `answered ${l.answered}, refused ${l.refused.length} (${[...new Set(l.refused.map((r) => `${r.status} ${r.code}`))].join(", ")}); backend peaks ${peaks.join("/")}`;

describe.each(TRANSPORTS)(`admission across ${ISOLATES} isolates (%s)`, E2E, (transport) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: `admission-${transport}`,
      session: transport === "session",
      isolates: ISOLATES,
      vars: CELLS,
      nodes: [0, 1, 2].map(() => ({ latencyMs: BACKEND_LATENCY_MS, capacity: CAPACITY })),
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it("serves 10 concurrent clients for 20 s, no backend ever past its 4, any refusal retryable", async () => {
    for (const backend of cluster.backends) backend.resetPeak();
    const result = await load(cluster, 10, 20_000);
    const peaks = cluster.backends.map((b) => b.stats().peakConcurrent);
    const said = summary(result, peaks);
    for (const peak of peaks) expect(peak, said).toBeLessThanOrEqual(CAPACITY);
    expect(result.refused, said).toEqual([]);
    expect(result.answered, said).toBeGreaterThan(0);
    // The figures the closing notes quote: `npx vitest run --project e2e tools/e2e/admission.test.ts`.
    console.log(`10 clients, ${transport}: ${said}`);
  }, 60_000);

  it("holds 30 concurrent clients to 4 a backend, refusing the rest with 503 or 429 and Retry-After", async () => {
    for (const backend of cluster.backends) backend.resetPeak();
    const result = await load(cluster, 30, 10_000);
    const peaks = cluster.backends.map((b) => b.stats().peakConcurrent);
    const said = summary(result, peaks);
    for (const peak of peaks) expect(peak, said).toBeLessThanOrEqual(CAPACITY);
    expect(retryable(result).length, said).toBe(result.refused.length);
    // More than the mesh's 12 slots were asked for at once: some were refused, and the slots stayed busy.
    expect(result.refused.length, said).toBeGreaterThan(0);
    expect(result.answered, said).toBeGreaterThan(0);
  }, 60_000);
});

const BURST = 96;
const BURST_CAPACITY = 64;

describe.each(TRANSPORTS)(`a burst on a freshly joined mesh across ${ISOLATES} isolates (%s)`, E2E, (transport) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      agents: 3,
      name: `burst-${transport}`,
      session: transport === "session",
      isolates: ISOLATES,
      vars: CELLS,
      nodes: [0, 1, 2].map(() => ({ latencyMs: BACKEND_LATENCY_MS, capacity: BURST_CAPACITY })),
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => cluster?.stop(), SETUP_TIMEOUT_MS);

  it(`answers all of ${BURST} requests sent at once to 3 new nodes of capacity ${BURST_CAPACITY}`, async () => {
    const result: Load = { answered: 0, refused: [] };
    await Promise.all(Array.from({ length: BURST }, (_, i) => chat(cluster, `burst ${i}`, result)));
    const peaks = cluster.backends.map((b) => b.stats().peakConcurrent);
    const said = summary(result, peaks);
    expect(result.refused, said).toEqual([]);
    expect(result.answered, said).toBe(BURST);
    for (const peak of peaks) expect(peak, said).toBeLessThanOrEqual(BURST_CAPACITY);
  }, 60_000);
});
