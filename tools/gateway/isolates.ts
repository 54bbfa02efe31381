// Several isolates serving one gateway, as production does (every colo runs its own): N copies of the Worker in one
// workerd, each a Worker of its own (so its own isolate, module state and caches), sharing the first copy's Durable
// Objects through `scriptName`, behind an entry Worker that hands requests to them in turn.
import type { DurableObjectBinding } from "./wrangler-config.js";

/** The name of copy `index`; copy 0 defines the Durable Object classes the others bind to. */
export function isolateName(index: number): string {
  return `gateway-${index}`;
}

/** The header the entry Worker adds to every answer (not to WebSocket upgrades): which copy served it, from 0. */
export const ISOLATE_HEADER = "x-meshgate-isolate";

/** Copy `index`'s Durable Object bindings: the classes themselves in copy 0, the same objects through it elsewhere. */
export function isolateDurableObjects(
  bindings: Record<string, DurableObjectBinding>,
  index: number,
): Record<string, DurableObjectBinding & { scriptName?: string }> {
  if (index === 0) return bindings;
  return Object.fromEntries(
    Object.entries(bindings).map(([name, binding]) => [name, { ...binding, scriptName: isolateName(0) }]),
  );
}

/** Service bindings from the entry Worker to every copy. */
export function isolateServiceBindings(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`ISOLATE_${i}`, isolateName(i)]));
}

/** The entry Worker: round robin over ISOLATE_0 … ISOLATE_{COUNT-1}, naming the copy that answered. */
export const ENTRY_SCRIPT = `
let next = 0;
export default {
  async fetch(request, env) {
    const index = next++ % Number(env.COUNT);
    const response = await env["ISOLATE_" + index].fetch(request);
    if (response.webSocket) return response;
    const named = new Response(response.body, response);
    named.headers.set("${ISOLATE_HEADER}", String(index));
    return named;
  },
};
`;
