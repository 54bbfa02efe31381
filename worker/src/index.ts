import { router } from "./app.js";

export { ApiKeys } from "./durable/api-keys.js";
export { NodeRegistry } from "./durable/node-registry.js";
export { UsageLedger } from "./durable/usage-ledger.js";

export default {
  fetch: (request, env, ctx) => router.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
