// Phase 3: a small rpm, then a small tpm, each over a short window at the measured concurrency. What was let through
// must stay within the bucket's allowance over the window (its burst plus its refill since the key was created), and
// every refusal must be 429 rate_limit_exceeded with a Retry-After.
import { totalCalls } from "./account-calls.js";
import { bucketAllowance, loopFigures, wrongRefusals, type LoopFigures } from "./checks.js";
import { closedLoop } from "./closed-loop.js";
import type { HotKeyMesh } from "./gateway.js";
import { sleep } from "./rate.js";
import { BODY, WORST_CASE_TOKENS } from "./request.js";
import { GENEROUS, IDLE_MS, RPM, TPM_REQUESTS } from "./sizes.js";

export interface LimitResult {
  dimension: "rpm" | "tpm";
  limit: number;
  windowMs: number;
  loop: LoopFigures;
  /** Requests (rpm) or tokens (tpm) the account's ledger shows for the window. */
  used: number;
  allowance: number;
  callsPerRequest: number;
  failures: string[];
}

async function limitRun(
  mesh: HotKeyMesh,
  dimension: "rpm" | "tpm",
  limit: number,
  concurrency: number,
  windowMs: number,
): Promise<LimitResult> {
  const createdAt = Date.now();
  const { id, key } = await mesh.newKey(`hot-key-${dimension}`, { ...GENEROUS, [dimension]: limit });
  const run = await closedLoop({ url: mesh.url, key, body: BODY, concurrency, durationMs: windowMs });
  const loop = loopFigures(concurrency, run);
  await sleep(IDLE_MS);
  const { usage, calls } = await mesh.accountOnceRecorded(id, loop.answered);
  const used = dimension === "rpm" ? usage.requests : usage.total_tokens;
  const allowance = bucketAllowance(limit, createdAt, run.endedAt);
  const failures = [
    ...(used <= allowance ? [] : [`${dimension}: ${used} used > allowance ${allowance}`]),
    ...(dimension === "rpm" && loop.answered > allowance ? [`rpm: ${loop.answered} answered > ${allowance}`] : []),
    ...wrongRefusals(run.answers, "rate_limit_exceeded", true).map((w) => `${dimension} refused: ${w}`),
  ];
  return {
    dimension,
    limit,
    windowMs,
    loop,
    used,
    allowance,
    callsPerRequest: totalCalls(calls) / Math.max(1, loop.answered),
    failures,
  };
}

/** `tokensPerRequest`: what a request actually used (rate phase); the tpm never goes below one request's worst case. */
export async function limitsPhase(
  mesh: HotKeyMesh,
  concurrency: number,
  windowMs: number,
  tokensPerRequest: number,
): Promise<LimitResult[]> {
  const tpm = Math.max(WORST_CASE_TOKENS, Math.round(TPM_REQUESTS * tokensPerRequest));
  return [
    await limitRun(mesh, "rpm", RPM, concurrency, windowMs),
    await limitRun(mesh, "tpm", tpm, concurrency, windowMs),
  ];
}
