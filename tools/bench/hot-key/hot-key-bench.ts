// The hot-key bench (issue 17, "Measured"): one key over 4 isolates at the highest rate this machine sustains, with a
// budget and rpm/tpm limits: its rate beside a key without limits, account calls per request, a budget running out
// mid-run (never overspent, every refusal insufficient_quota), and small rpm and tpm limits held within their buckets.
import { join } from "node:path";
import type { LineSink } from "../../processes/index.js";
import { machineFacts, type MachineFacts } from "../machine.js";
import { BENCH_DIR } from "../stack.js";
import { budgetPhase, type BudgetResult } from "./budget.js";
import { startHotKeyMesh } from "./gateway.js";
import { limitsPhase, type LimitResult } from "./limits.js";
import { ratePhase, type RateResult } from "./rate.js";
import type { HotKeySizes } from "./sizes.js";

export interface HotKeyResult {
  command: string;
  date: string;
  machine: MachineFacts;
  rate: RateResult;
  budget: BudgetResult;
  limits: LimitResult[];
  /** Every check that did not hold; the run fails when there is any. */
  failures: string[];
}

export async function hotKeyPhase(
  backendUrl: string,
  sink: (name: string) => LineSink,
  sizes: HotKeySizes,
  command: string,
  progress: (line: string) => void,
): Promise<HotKeyResult> {
  const machine = machineFacts();
  const mesh = await startHotKeyMesh(backendUrl, sink, join(BENCH_DIR, "hot-key-node-key.json"));
  progress(`hot key: gateway ×4 ${mesh.url} (workerd pid ${mesh.pid ?? "?"}), node ${mesh.nodeId}`);
  try {
    const rate = await ratePhase(mesh, sizes, progress);
    const { loop, usage } = rate.limited;
    const costPerRequest = usage.cost / Math.max(1, usage.requests);
    progress(`hot key: a budget running out mid-run at c=${rate.concurrency}`);
    const budget = await budgetPhase(mesh, rate.concurrency, loop.perSecond, costPerRequest, sizes.budgetMs);
    progress(`hot key: rpm and tpm windows of ${sizes.limitWindowMs / 1000} s at c=${rate.concurrency}`);
    const tokensPerRequest = usage.total_tokens / Math.max(1, usage.requests);
    const limits = await limitsPhase(mesh, rate.concurrency, sizes.limitWindowMs, tokensPerRequest);
    const failures = [...rate.failures, ...budget.failures, ...limits.flatMap((l) => l.failures)];
    return { command, date: new Date().toISOString(), machine, rate, budget, limits, failures };
  } finally {
    await mesh.stop();
  }
}
