// One client request of the load test, read to the end the way an SDK would, reduced to what the ledger check needs:
// status, request id, answering node, whether the answer arrived whole, and the usage it showed.
import type { Received, Usage } from "./ledger-check.js";

export interface Timed extends Received {
  /** Until the whole body was read, ms. */
  elapsedMs: number;
}

export interface LoadRequest {
  gatewayUrl: string;
  apiKey: string;
  model: string;
  stream: boolean;
  maxTokens: number;
}

function usageOf(value: unknown): Usage | null {
  const usage = (value as { usage?: Usage | null } | null)?.usage;
  return usage && typeof usage.total_tokens === "number" ? usage : null;
}

/** Data payloads of an event stream's text. */
function dataPayloads(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((event) =>
      event
        .split("\n")
        .find((line) => line.startsWith("data: "))
        ?.slice("data: ".length),
    )
    .filter((data): data is string => data !== undefined);
}

export async function sendOne(req: LoadRequest, n: number): Promise<Timed> {
  const started = performance.now();
  const body = {
    model: req.model,
    messages: [{ role: "user", content: `Load test request ${n}: say something short.` }],
    max_tokens: req.maxTokens,
    ...(req.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  let status = 0;
  let requestId = "";
  let nodeId = "none";
  try {
    const res = await fetch(`${req.gatewayUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${req.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    status = res.status;
    requestId = res.headers.get("x-request-id") ?? "";
    nodeId = res.headers.get("x-meshgate-node") ?? "none";
    const text = await res.text();
    let complete = false;
    let usage: Usage | null = null;
    if (status === 200 && req.stream) {
      const payloads = dataPayloads(text);
      const events = payloads.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d) as unknown);
      const failed = events.some((e) => typeof e === "object" && e !== null && "error" in e);
      complete = payloads.at(-1) === "[DONE]" && !failed;
      for (const e of events) usage = usageOf(e) ?? usage;
    } else if (status === 200) {
      complete = true;
      usage = usageOf(JSON.parse(text));
    }
    return { requestId, status, nodeId, complete, usage, elapsedMs: performance.now() - started };
  } catch {
    // The connection broke (a stream cut off mid-way): whatever was received is incomplete.
    return { requestId, status, nodeId, complete: false, usage: null, elapsedMs: performance.now() - started };
  }
}

/** Runs `total` requests with `concurrency` in flight at a time. */
export async function runLoad(
  total: number,
  concurrency: number,
  send: (n: number) => Promise<Timed>,
): Promise<Timed[]> {
  const results: Timed[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) results.push(await send(next++));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
