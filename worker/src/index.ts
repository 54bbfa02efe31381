import { router } from "./app.js";
import { moveLegacyKeys } from "./durable/api-keys/legacy-move.js";
import { runHealthProbes } from "./mesh/health-probe-run.js";

export { AdmissionCell } from "./durable/admission-cell/admission-cell.js";
export { CellDirectory } from "./durable/cell-directory/cell-directory.js";
export { ApiKeys } from "./durable/api-keys/api-keys.js";
export { KeyChanges } from "./durable/key-changes/key-changes.js";
export { NodeRegistry } from "./durable/node-registry/node-registry.js";
export { NodeSession } from "./durable/node-session/node-session.js";
export { KeyAccount } from "./durable/key-account/key-account.js";
export { EarningsShard } from "./durable/earnings-shard/earnings-shard.js";
export { Settlements } from "./durable/settlements/settlements.js";
export { UsageRollup } from "./durable/usage-rollup/usage-rollup.js";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
  // The Cron Trigger in wrangler.toml: health probes, and the legacy keys' move into the key index (a no-op once done).
  // A failed run fails the event, so it shows in the cron history. Liveness is judged at the time the run starts, not
  // the (possibly earlier) time it was scheduled for.
  scheduled: (_controller, env, ctx) => {
    const now = Date.now();
    ctx.waitUntil(Promise.all([runHealthProbes(env, now), moveLegacyKeys(env, now)]).then(() => {}));
  },
} satisfies ExportedHandler<Env>;
