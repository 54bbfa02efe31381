// The mesh's status and model list as isolates serve them (GET /v1/mesh/status, /v1/models): the registry builds it
// (a few kilobytes however many nodes), each colo's cache keeps one copy for STATUS_TTL_MS, and each isolate one in
// memory, so a public page polled by many readers costs the registry about one read per colo every few seconds.
import type { MeshStatus } from "../catalog/mesh-status.js";
import { nodeRegistry } from "../durable/names.js";

export const STATUS_TTL_MS = 2_000;
/** The cache key of the colo's copy; any URL of ours works, it never leaves the colo. */
const STATUS_CACHE_URL = "https://meshgate.internal/mesh/status";

let held: { readAt: number; status: MeshStatus } | null = null;
let reading: Promise<MeshStatus> | null = null;

async function readThroughCache(env: Env, now: number): Promise<MeshStatus> {
  const cache = await caches.open("meshgate-status");
  const cached = await cache.match(STATUS_CACHE_URL);
  if (cached) return (await cached.json()) as MeshStatus;
  const status = await nodeRegistry(env).meshStatus(now);
  await cache.put(
    STATUS_CACHE_URL,
    Response.json(status, { headers: { "cache-control": `max-age=${STATUS_TTL_MS / 1000}` } }),
  );
  return status;
}

/** The status at most STATUS_TTL_MS old; concurrent readers in an isolate share one read. */
export async function currentMeshStatus(env: Env, now: number): Promise<MeshStatus> {
  if (held && now - held.readAt < STATUS_TTL_MS) return held.status;
  reading ??= readThroughCache(env, now)
    .then((status) => {
      held = { readAt: now, status };
      return status;
    })
    .finally(() => (reading = null));
  return reading;
}

/** For tests: the next read goes to the colo's cache (and the registry) again. */
export function forgetMeshStatus(): void {
  held = null;
}
