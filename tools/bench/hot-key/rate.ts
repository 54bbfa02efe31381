// Phase 1: the highest rate one key sustains over the isolates, with a budget, rpm and tpm on its path but far from
// refusing; then, at the best concurrency, a fresh limited key beside a key without limits (no account on the
// admission path: the baseline), with the account calls each cost per answered request.
import { totalCalls, type AccountCalls, type AccountUsage } from "./account-calls.js";
import { loopFigures, stillRising, type LoopFigures } from "./checks.js";
import { closedLoop, mergeLoops, type LoopResult } from "./closed-loop.js";
import type { HotKeyMesh } from "./gateway.js";
import { BODY } from "./request.js";
import { GENEROUS, IDLE_MS, PAIR_ROUNDS, RAMP_GAIN, type HotKeySizes } from "./sizes.js";

export interface KeyRun {
  loop: LoopFigures;
  calls: AccountCalls;
  callsPerRequest: number;
  /** The account's view once idle (PATCH /admin/keys answers); null for the key without limits. */
  spent: number | null;
  reserved: number | null;
  usage: AccountUsage;
}

export interface RateResult {
  ramp: LoopFigures[];
  concurrency: number;
  limited: KeyRun;
  baseline: KeyRun;
  /** Any answer but a 200: with limits this generous, nothing should be refused. */
  failures: string[];
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ramp(mesh: HotKeyMesh, sizes: HotKeySizes, progress: (line: string) => void): Promise<LoopFigures[]> {
  const { key } = await mesh.newKey("hot-key-ramp", GENEROUS);
  const steps: LoopFigures[] = [];
  for (const concurrency of sizes.concurrencies) {
    const loop = await closedLoop({ url: mesh.url, key, body: BODY, concurrency, durationMs: sizes.stepMs });
    const step = loopFigures(concurrency, loop);
    steps.push(step);
    progress(`hot key: c=${concurrency} ${step.perSecond.toFixed(0)} req/s, p50 ${step.p50Ms.toFixed(1)} ms`);
    if (
      !stillRising(
        steps.map((s) => s.perSecond),
        RAMP_GAIN,
      )
    )
      break;
  }
  return steps;
}

/** A key's figures once its usage is in and its slices are back. */
async function keyFigures(mesh: HotKeyMesh, id: string, limited: boolean, loop: LoopFigures): Promise<KeyRun> {
  await mesh.accountOnceRecorded(id, loop.answered);
  await sleep(IDLE_MS);
  const { calls, usage } = await mesh.account(id);
  const view = limited ? await mesh.accountView(id, { budget: GENEROUS.budget }) : null;
  return {
    loop,
    calls,
    callsPerRequest: totalCalls(calls) / Math.max(1, loop.answered),
    spent: view?.spent ?? null,
    reserved: view?.reserved ?? null,
    usage,
  };
}

/**
 * A key without limits (the baseline) and a fresh limited key in alternating rounds at `concurrency`, so background
 * load on a shared machine hits both alike.
 */
async function pair(mesh: HotKeyMesh, concurrency: number, sizes: HotKeySizes): Promise<[KeyRun, KeyRun]> {
  const sides = [await mesh.newKey("hot-key-baseline", {}), await mesh.newKey("hot-key-limited", GENEROUS)];
  const loops: LoopResult[][] = [[], []];
  const durationMs = sizes.pairMs / PAIR_ROUNDS;
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const [i, { key }] of sides.entries())
      loops[i]?.push(await closedLoop({ url: mesh.url, key, body: BODY, concurrency, durationMs }));
  }
  const figures = loops.map((l) => loopFigures(concurrency, mergeLoops(l)));
  const [baseline, limited] = sides.map((side, i) => {
    const f = figures[i];
    if (!f) throw new Error("no loop figures");
    return keyFigures(mesh, side.id, i === 1, f);
  });
  if (!baseline || !limited) throw new Error("no pair");
  return [await baseline, await limited];
}

export async function ratePhase(
  mesh: HotKeyMesh,
  sizes: HotKeySizes,
  progress: (line: string) => void,
): Promise<RateResult> {
  const steps = await ramp(mesh, sizes, progress);
  const best = steps.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  progress(
    `hot key: a key without limits and a fresh limited key, ${PAIR_ROUNDS} rounds each, at c=${best.concurrency}`,
  );
  const [baseline, limited] = await pair(mesh, best.concurrency, sizes);
  const failures = [...steps, limited.loop, baseline.loop].flatMap((f) =>
    f.outcomes.filter(([label]) => label !== "200").map(([label, n]) => `rate c=${f.concurrency}: ${label} ×${n}`),
  );
  return { ramp: steps, concurrency: best.concurrency, limited, baseline, failures };
}
