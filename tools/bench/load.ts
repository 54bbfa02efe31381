// A minimal HTTP load generator on node:http with a keep-alive Agent. The OpenAI SDK (or fetch/undici with its
// stream machinery) costs more client CPU per request than the sub-millisecond differences being measured, and the
// client shares two cores with everything it measures, so each request here is as cheap as node:http allows.
import { Agent, request, type IncomingMessage } from "node:http";

export interface Probe {
  /** Absolute URL, e.g. http://127.0.0.1:8787/v1/chat/completions. */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Count SSE events in the body (costs a scan of every chunk, so only for the streaming phase). */
  countEvents?: boolean;
  /** The node that must answer (the gateway's `x-meshgate-node`): any other makes the sample a failure. */
  expectNode?: string;
  /** Keep the answer's Server-Timing header (as it came; parsed after the clock stops, off the measured path). */
  keepServerTiming?: boolean;
}

export interface Sample {
  /** 0 when the request failed before a response (see `error`). */
  status: number;
  error: string | null;
  /** From just before the request is written to the response headers, first body bytes and end of body. */
  headersNs: bigint;
  firstByteNs: bigint | null;
  totalNs: bigint;
  /** Separate arrivals of body data on the socket ('data' events): a buffering proxy collapses them. */
  chunks: number;
  /** SSE events (`\n\n`-terminated blocks), when `countEvents` was set; otherwise 0. */
  events: number;
  /**
   * Arrivals that completed at least one SSE event. Unbuffered, every event completes in its own arrival (an event
   * may also arrive in two pieces, which `chunks` counts twice); a buffering hop makes this far smaller than `events`.
   */
  eventArrivals: number;
  bytes: number;
  /** The Server-Timing header, when the probe asked to keep it and the answer had one; otherwise null. */
  serverTiming: string | null;
}

/** A keep-alive pool of exactly `concurrency` sockets, Nagle off, so request n+1 reuses request n's connection. */
export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, noDelay: true });
}

function countBlankLines(chunk: Buffer, previousEndedWithNewline: boolean): number {
  let n = 0;
  let prev = previousEndedWithNewline ? 0x0a : 0;
  for (const byte of chunk) {
    if (byte === 0x0a && prev === 0x0a) n++;
    prev = byte;
  }
  return n;
}

/** Why the answer does not count, or null: a non-2xx status, or the wrong node when the probe was pinned to one. */
function answerError(probe: Probe, res: IncomingMessage): string | null {
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) return `HTTP ${status}`;
  if (probe.expectNode === undefined) return null;
  const node = res.headers["x-meshgate-node"];
  return node === probe.expectNode ? null : `answered by node ${String(node)}, not ${probe.expectNode}`;
}

/** Node joins a repeated Server-Timing header into one string itself (only set-cookie comes as an array). */
function serverTimingOf(res: IncomingMessage): string | null {
  const value = res.headers["server-timing"];
  return typeof value === "string" ? value : null;
}

export function send(agent: Agent, probe: Probe): Promise<Sample> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let headersNs = 0n;
    let firstByteNs: bigint | null = null;
    let chunks = 0;
    let events = 0;
    let eventArrivals = 0;
    let bytes = 0;
    let endedWithNewline = false;
    const fail = (status: number, err: unknown): void =>
      resolve({
        status,
        error: err instanceof Error ? err.message : String(err),
        headersNs,
        firstByteNs,
        totalNs: process.hrtime.bigint() - started,
        chunks,
        events,
        eventArrivals,
        bytes,
        serverTiming: null,
      });
    const req = request(
      probe.url,
      { method: "POST", agent, headers: { ...probe.headers, "content-length": String(probe.body.length) } },
      (res) => {
        headersNs = process.hrtime.bigint() - started;
        res.on("data", (chunk: Buffer) => {
          firstByteNs ??= process.hrtime.bigint() - started;
          chunks++;
          bytes += chunk.length;
          if (probe.countEvents) {
            const completed = countBlankLines(chunk, endedWithNewline);
            events += completed;
            if (completed > 0) eventArrivals++;
            endedWithNewline = chunk[chunk.length - 1] === 0x0a;
          }
        });
        res.on("end", () => {
          const totalNs = process.hrtime.bigint() - started;
          resolve({
            status: res.statusCode ?? 0,
            error: answerError(probe, res),
            headersNs,
            firstByteNs,
            totalNs,
            chunks,
            events,
            eventArrivals,
            bytes,
            serverTiming: probe.keepServerTiming ? serverTimingOf(res) : null,
          });
        });
        res.on("error", (err) => fail(res.statusCode ?? 0, err));
      },
    );
    req.on("error", (err) => fail(0, err));
    req.end(probe.body);
  });
}

export interface LoopResult {
  samples: Sample[];
  /** Wall time from the first request's start to the last one's end. */
  elapsedNs: bigint;
}

/**
 * A closed loop: `concurrency` workers each send the next probe as soon as their previous request ends, until every
 * probe has been sent once. Throughput is then count / elapsed, with exactly `concurrency` requests open throughout.
 */
export async function closedLoop(probes: readonly Probe[], concurrency: number): Promise<LoopResult> {
  const agent = keepAliveAgent(concurrency);
  const samples: Sample[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let probe = probes[next++]; probe !== undefined; probe = probes[next++])
      samples.push(await send(agent, probe));
  };
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, probes.length) }, worker));
    return { samples, elapsedNs: process.hrtime.bigint() - started };
  } finally {
    agent.destroy();
  }
}

/** The failures among `samples`, summarized as "3× HTTP 503, 1× ECONNRESET" (empty when all succeeded). */
export function describeFailures(samples: readonly Sample[]): string {
  const counts = new Map<string, number>();
  for (const s of samples) if (s.error !== null) counts.set(s.error, (counts.get(s.error) ?? 0) + 1);
  return [...counts].map(([error, n]) => `${n}× ${error}`).join(", ");
}
