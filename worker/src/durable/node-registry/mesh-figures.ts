// The registry's figures for the status page and the model list: the last hour's traffic and each model's measured
// time to first token, from the outcomes every cell already forwards here, and the model catalog from the live
// listing. Traffic minutes are kept in SQLite (written at most every FLUSH_MS), so a restart keeps the chart.
import type { PriceCeilings } from "@meshgate/schemas";
import { LatencySamples } from "../../catalog/latency-samples.js";
import { meshStatus, type MeshStatus } from "../../catalog/mesh-status.js";
import { catalogModels, type CatalogNode } from "../../catalog/model-catalog.js";
import { TrafficWindow, WINDOW_MINUTES, MINUTE_MS, type TrafficMinute } from "../../catalog/traffic-window.js";
import type { Outcome } from "../../routing/outcome.js";
import { offeredModels } from "./route-nodes.js";
import type { RegistryNode } from "./types.js";

/** How often counted minutes are written. */
const FLUSH_MS = 5_000;
/**
 * How long one status built serves the next reads (every colo's cache asks every few seconds): at most 5 s, and at
 * most 1 s once the listing changed, so a node that joins is listed within about a second here. Building reads
 * every live node, so it is never done more than once a second.
 */
const STATUS_REUSE_MS = 5_000;
const CHANGED_REUSE_MS = 1_000;

/** A model priced above a since-lowered ceiling is not routed to, so not listed (as route-nodes.ts decides). */
export function catalogNode(n: RegistryNode, ceilings: PriceCeilings): CatalogNode {
  const offers = offeredModels(n, ceilings);
  return {
    registered: n.registered,
    offers: offers.map((m) => ({
      id: m.id,
      owned_by: m.owned_by,
      price: m.price ?? null,
      context_length: m.context_length,
    })),
  };
}

export class MeshFigures {
  private readonly traffic: TrafficWindow;
  private readonly ttft = new LatencySamples();
  private readonly dirty = new Map<number, TrafficMinute>();
  private flushedAt = -Infinity;
  private built: MeshStatus | null = null;
  private changed = false;

  constructor(private readonly sql: SqlStorage) {
    const held = sql
      .exec<{ start: number; requests: number; succeeded: number }>(
        "SELECT start, requests, succeeded FROM traffic_minutes ORDER BY start",
      )
      .toArray();
    this.traffic = new TrafficWindow(held);
  }

  /** Every judged outcome counts once in its minute; a success's first token is a latency sample. */
  observe(outcomes: readonly Outcome[], now: number): void {
    for (const o of outcomes) {
      const succeeded = o.kind === "success";
      const minute = this.traffic.count(o.at, succeeded, now);
      if (minute) this.dirty.set(minute.start, minute);
      if (succeeded && o.ttftMs !== null) this.ttft.add(o.model, o.ttftMs, o.at);
    }
    if (now - this.flushedAt >= FLUSH_MS) this.flush(now);
  }

  /** A node joined, left or changed what it serves. */
  listingChanged(): void {
    this.changed = true;
  }

  /** The status for `nodes` (the live listing), built again only when the last one is old enough. */
  status(nodes: () => RegistryNode[], ceilings: PriceCeilings, now: number): MeshStatus {
    const reuseMs = this.changed ? CHANGED_REUSE_MS : STATUS_REUSE_MS;
    // Either side: readers pass the instant their request began, and reach here in any order. Reusing only for a later
    // `now` rebuilt (reading every node) for each reader that had asked a moment before the last build's.
    if (this.built && Math.abs(now - this.built.at) < reuseMs) return this.built;
    this.changed = false;
    const listed = nodes();
    const models = catalogModels(
      listed.map((n) => catalogNode(n, ceilings)),
      (model) => this.ttft.p50(model, now),
    );
    this.built = meshStatus(listed.length, models, this.traffic.read(now), now);
    return this.built;
  }

  private flush(now: number): void {
    this.flushedAt = now;
    for (const m of this.dirty.values())
      this.sql.exec(
        "INSERT INTO traffic_minutes (start, requests, succeeded) VALUES (?, ?, ?) ON CONFLICT (start) DO UPDATE " +
          "SET requests = excluded.requests, succeeded = excluded.succeeded",
        m.start,
        m.requests,
        m.succeeded,
      );
    this.dirty.clear();
    this.sql.exec("DELETE FROM traffic_minutes WHERE start <= ?", now - WINDOW_MINUTES * MINUTE_MS);
  }
}
