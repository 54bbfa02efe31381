// What the public status page shows: live nodes, the model list, and the last hour's traffic. Built where the figures
// are (the registry), a few kilobytes however many nodes there are, and cached on the way out.
import type { ModelEntry } from "./model-catalog.js";
import { MINUTE_MS, type TrafficMinute } from "./traffic-window.js";

export interface MeshStatus {
  object: "mesh.status";
  /** When the figures were made, ms. */
  at: number;
  nodes: { live: number };
  models: ModelEntry[];
  traffic: { minute_ms: number; minutes: TrafficMinute[] };
}

export function meshStatus(live: number, models: ModelEntry[], minutes: TrafficMinute[], at: number): MeshStatus {
  return { object: "mesh.status", at, nodes: { live }, models, traffic: { minute_ms: MINUTE_MS, minutes } };
}
