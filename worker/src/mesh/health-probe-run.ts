// One Cron Trigger run of the health probes: ask the registry which nodes to probe, probe them, record what happened.
import { nodeRegistry } from "../durable/names.js";
import { gatewayIdentity } from "./gateway-identity.js";
import { PROBE_TIMEOUT_MS, probeNodes, type ProbeResult } from "./health-probe.js";
import { checkNodeUrl, nodeUrlPolicy } from "../limits/node-url-policy.js";

/**
 * Why 950 probes per run at most: each probe is one subrequest, and one invocation may make 1,000 on the Workers
 * Paid plan (Cloudflare's limits page; newer pages list 10,000, the free plan 50), less the two registry calls and
 * some headroom.
 *
 * Why no probe starts after 20 s: the run lives in `waitUntil`, which may run 30 s; the last probes take at most
 * PROBE_TIMEOUT_MS (5 s) more, and recording is one registry call.
 *
 * Coverage: with 6 probes in flight (health-probe.ts), 950 probes fit in 20 s when answers average under
 * 20 s × 6 / 950 ≈ 126 ms. Then 10,000 nodes, least recently probed first, one run a minute, are each probed at
 * least every ⌈10,000 / 950⌉ = 11 minutes; a fleet of 950 or fewer, every minute. Slow and dead nodes stretch the
 * cycle (a dead one holds a slot for the whole 5 s: a run of only dead nodes covers 20 / 5 × 6 = 24, plus the 6 that
 * start last).
 */
export const MAX_PROBES_PER_RUN = 950;
export const START_PROBES_WITHIN_MS = 20_000;

/** Probes the least recently probed nodes that may get traffic and records the results, which it also returns. */
export async function runHealthProbes(env: Env, now: number): Promise<ProbeResult[]> {
  const registry = nodeRegistry(env);
  const targets = await registry.probeTargets(now, MAX_PROBES_PER_RUN);
  if (targets.length === 0) return [];
  const policy = nodeUrlPolicy(env);
  // Heartbeats refuse URLs the gateway must not call; one that became forbidden since (the policy changed) is not
  // called but recorded as unreachable, so it moves to the back of the queue instead of heading it every run.
  const refused = targets.filter((t) => checkNodeUrl(t.url, policy) !== null);
  const allowed = targets.filter((t) => checkNodeUrl(t.url, policy) === null);
  const { signer } = await gatewayIdentity(env);
  const started = Date.now();
  const probed = await probeNodes(allowed, {
    signer,
    now: Date.now,
    timeoutMs: PROBE_TIMEOUT_MS,
    startBy: started + START_PROBES_WITHIN_MS,
  });
  const results = [
    ...probed,
    ...refused.map((t): ProbeResult => ({ nodeId: t.id, reachable: false, rttMs: null, at: started })),
  ];
  await registry.recordProbes(results, Date.now());
  const unreachable = results.filter((r) => !r.reachable);
  if (unreachable.length > 0) {
    console.warn("health probes: unreachable nodes", {
      probed: results.length,
      unreachable: unreachable.length,
      first: unreachable.slice(0, 5).map((r) => r.nodeId),
    });
  }
  return results;
}
