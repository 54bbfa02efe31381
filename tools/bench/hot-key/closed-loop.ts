// A closed loop for a while: `concurrency` clients, each sending the next request as soon as its last one ended, for
// `durationMs`. Every answer is kept as its status, error code, Retry-After and latency.

export interface Answer {
  status: number;
  /** The OpenAI-style error code of a refusal; null for a success. */
  code: string | null;
  retryAfter: string | null;
  ms: number;
}

export interface LoopSpec {
  url: string;
  key: string;
  body: string;
  concurrency: number;
  durationMs: number;
}

export interface LoopResult {
  answers: Answer[];
  elapsedMs: number;
  /** When the loop started and stopped sending (Date.now). */
  startedAt: number;
  endedAt: number;
}

/** An answer slower than this is a hung request: counted as a failure rather than stalling the run. */
const REQUEST_TIMEOUT_MS = 30_000;

export async function sendChat(url: string, key: string, body: string): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let code: string | null = null;
  if (res.status !== 200) {
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
    } catch {
      code = "(not JSON)";
    }
  }
  return { status: res.status, code, retryAfter: res.headers.get("retry-after"), ms };
}

/** A failed fetch (connection reset, …) counts as status 0 with its message, so the run reports it. */
async function sendOrFail(spec: LoopSpec): Promise<Answer> {
  try {
    return await sendChat(spec.url, spec.key, spec.body);
  } catch (err) {
    return { status: 0, code: err instanceof Error ? err.message : String(err), retryAfter: null, ms: 0 };
  }
}

export async function closedLoop(spec: LoopSpec): Promise<LoopResult> {
  const answers: Answer[] = [];
  const startedAt = Date.now();
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const client = async () => {
    while (performance.now() < deadline) answers.push(await sendOrFail(spec));
  };
  await Promise.all(Array.from({ length: spec.concurrency }, client));
  return { answers, elapsedMs: performance.now() - started, startedAt, endedAt: Date.now() };
}

/** Answers by "status code" (e.g. "429 insufficient_quota"), most frequent first. */
export function byOutcome(answers: readonly Answer[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const label = a.code === null ? String(a.status) : `${a.status} ${a.code}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

/** Several loops taken as one (rounds of the same key): their answers together, over their summed time. */
export function mergeLoops(loops: readonly LoopResult[]): LoopResult {
  if (loops.length === 0) throw new Error("no loops to merge");
  return {
    answers: loops.flatMap((l) => l.answers),
    elapsedMs: loops.reduce((sum, l) => sum + l.elapsedMs, 0),
    startedAt: Math.min(...loops.map((l) => l.startedAt)),
    endedAt: Math.max(...loops.map((l) => l.endedAt)),
  };
}
