// Phase 2: the same rate against a budget that runs out mid-run (about half the loop's worth at the measured cost per
// request), then a sequential client spending what is left once every isolate has given its slices back. Spent must
// never pass the budget, and every refusal must be 429 insufficient_quota.
import { totalCalls } from "./account-calls.js";
import { loopFigures, wrongRefusals, type LoopFigures } from "./checks.js";
import { closedLoop, sendChat, type Answer } from "./closed-loop.js";
import type { HotKeyMesh } from "./gateway.js";
import { sleep } from "./rate.js";
import { BODY, worstCaseCost } from "./request.js";
import { GENEROUS, IDLE_MS } from "./sizes.js";

/** The sequential tail stops here if the budget has not refused by then (a bug: it would be spending forever). */
const TAIL_LIMIT = 5_000;

export interface BudgetResult {
  budget: number;
  worstCase: number;
  loop: LoopFigures;
  /** After the loop, its usage flushed and the isolates idle; then after the sequential tail. */
  afterLoop: { spent: number; reserved: number; usageCost: number };
  tail: { answered: number; refused: number };
  final: { spent: number; reserved: number; usageCost: number; requests: number };
  callsPerRequest: number;
  failures: string[];
}

/** Sequential requests until the budget refuses even after every isolate went idle. */
async function spendTheRest(url: string, key: string): Promise<{ answered: number; answers: Answer[] }> {
  const answers: Answer[] = [];
  let answered = 0;
  let refusedAfterIdle = false;
  while (!refusedAfterIdle && answers.length < TAIL_LIMIT) {
    const sent = await sendChat(url, key, BODY);
    answers.push(sent);
    if (sent.status === 200) {
      answered++;
      continue;
    }
    await sleep(IDLE_MS);
    const again = await sendChat(url, key, BODY);
    answers.push(again);
    if (again.status === 200) answered++;
    else refusedAfterIdle = true;
  }
  return { answered, answers };
}

async function settled(mesh: HotKeyMesh, id: string, requests: number, budget: number) {
  const { usage } = await mesh.accountOnceRecorded(id, requests);
  const view = await mesh.accountView(id, { budget });
  return { spent: view.spent, reserved: view.reserved, usageCost: usage.cost, requests: usage.requests };
}

function overspent(what: string, spent: number, budget: number): string[] {
  return spent <= budget ? [] : [`${what}: spent ${spent} > budget ${budget}`];
}

export async function budgetPhase(
  mesh: HotKeyMesh,
  concurrency: number,
  perSecond: number,
  costPerRequest: number,
  durationMs: number,
): Promise<BudgetResult> {
  const budget = Math.max(1, Math.round(((perSecond * durationMs) / 2_000) * costPerRequest));
  const { id, key } = await mesh.newKey("hot-key-budget", { ...GENEROUS, budget });
  const run = await closedLoop({ url: mesh.url, key, body: BODY, concurrency, durationMs });
  const loop = loopFigures(concurrency, run);
  await sleep(IDLE_MS);
  const afterLoop = await settled(mesh, id, loop.answered, budget);
  const tail = await spendTheRest(mesh.url, key);
  await sleep(IDLE_MS);
  const final = await settled(mesh, id, loop.answered + tail.answered, budget);
  await sleep(IDLE_MS);
  const { calls, usage } = await mesh.account(id);
  const late = usage.cost;
  const failures = [
    ...overspent("after the loop", afterLoop.spent, budget),
    ...overspent("after the sequential tail", final.spent, budget),
    ...wrongRefusals([...run.answers, ...tail.answers], "insufficient_quota", false).map((w) => `refused: ${w}`),
    ...(late === final.usageCost ? [] : [`usage moved after the end: ${final.usageCost} → ${late}`]),
    ...(tail.answers.length >= TAIL_LIMIT ? [`the sequential tail was never refused in ${TAIL_LIMIT} requests`] : []),
  ];
  return {
    budget,
    worstCase: worstCaseCost(),
    loop,
    afterLoop,
    tail: { answered: tail.answered, refused: tail.answers.length - tail.answered },
    final,
    callsPerRequest: totalCalls(calls) / Math.max(1, loop.answered + tail.answered),
    failures,
  };
}
