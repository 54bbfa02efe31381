// GET /v1/mesh/status and GET /v1/usage bodies as the pages get them, for tests of their rendering and the browser
// measurement with many models.
import type { MeshStatus, ModelStatus } from "../../worker/public/pages/status-view.js";

export const MINUTE_MS = 60_000;

export function modelStatus(id: string, nodes: number, overrides: Partial<ModelStatus> = {}): ModelStatus {
  return {
    id,
    owned_by: "meshgate",
    nodes,
    context_length: 8192,
    pricing: { usd_per_million: { prompt: 0.2, completion: 0.6 } },
    ttft_ms_p50: 120,
    ...overrides,
  };
}

/** `models` models on `live` nodes; the hour's minutes carry `perMinute` requests, of which all but one succeeded. */
export function meshStatus(opts: { live: number; models: number; perMinute: number; at?: number }): MeshStatus {
  const at = opts.at ?? Date.UTC(2026, 11, 7, 12, 0, 30);
  const firstMinute = Math.floor(at / MINUTE_MS) * MINUTE_MS - 59 * MINUTE_MS;
  return {
    at,
    nodes: { live: opts.live },
    models: Array.from({ length: opts.models }, (_, i) => modelStatus(`model-${String(i).padStart(4, "0")}`, 1 + i)),
    traffic: {
      minute_ms: MINUTE_MS,
      minutes: Array.from({ length: 60 }, (_, i) => ({
        start: firstMinute + i * MINUTE_MS,
        requests: opts.perMinute,
        succeeded: Math.max(0, opts.perMinute - 1),
      })),
    },
  };
}
