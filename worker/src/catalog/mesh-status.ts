// What the public status page shows: live nodes, the model list, and the last hour's traffic. Built where the figures
// are (the registry), a few kilobytes however many nodes there are, and cached on the way out.
import type { MeshStatus, ModelObject, TrafficMinute } from "@meshgate/schemas";
import { MINUTE_MS } from "./traffic-window.js";

export type { MeshStatus };

export function meshStatus(live: number, models: ModelObject[], minutes: TrafficMinute[], at: number): MeshStatus {
  return { object: "mesh.status", at, nodes: { live }, models, traffic: { minute_ms: MINUTE_MS, minutes } };
}
