import { DurableObject } from "cloudflare:workers";
import { NODE_TTL_MS, type AdvertisedModel, type Heartbeat } from "@meshgate/schemas";
import { groupBy } from "../mesh/batcher.js";
import { updateLatency, type LatencyEstimate } from "../routing/latency.js";
import { decay, recordOutcome, reputationScore, type Reputation } from "../routing/reputation.js";

/** A live node as the request path sees it. */
export interface RegistryNode {
  id: string;
  url: string;
  models: AdvertisedModel[];
  capacity: number;
  in_flight: number;
  last_heartbeat: number;
  registered: number;
  latency_ms: number | null;
  reputation: number;
  requests: number;
}

/** What one isolate observed about one dispatch. */
export interface NodeOutcome {
  nodeId: string;
  ok: boolean;
  /** Time to first byte, when the node answered at all. */
  ttfbMs: number | null;
  at: number;
}

export type HeartbeatResult = { ok: true; registered: boolean } | { ok: false; code: "replayed_heartbeat"; message: string };

type NodeRow = {
  id: string;
  url: string;
  models: string;
  capacity: number;
  in_flight: number;
  last_heartbeat: number;
  seq: number;
  registered: number;
  lat_ms: number | null;
  lat_at: number | null;
  rep_s: number;
  rep_f: number;
  rep_at: number;
  requests: number;
};

/** The node registry: who is live, where, serving what, and how well they have done. */
export class NodeRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS nodes (
      id TEXT PRIMARY KEY, url TEXT NOT NULL, models TEXT NOT NULL, capacity INTEGER NOT NULL, in_flight INTEGER NOT NULL,
      last_heartbeat INTEGER NOT NULL, seq INTEGER NOT NULL, registered INTEGER NOT NULL,
      lat_ms REAL, lat_at INTEGER, rep_s REAL NOT NULL DEFAULT 0, rep_f REAL NOT NULL DEFAULT 0, rep_at INTEGER NOT NULL,
      requests INTEGER NOT NULL DEFAULT 0
    )`);
  }

  /** Registers or refreshes a node whose signature the Worker has already verified. Sequence numbers only increase. */
  heartbeat(hb: Heartbeat, now: number): HeartbeatResult {
    const prev = this.sql.exec<{ seq: number }>("SELECT seq FROM nodes WHERE id = ?", hb.node_id).toArray()[0];
    if (prev && hb.seq <= prev.seq) {
      return { ok: false, code: "replayed_heartbeat", message: `heartbeat sequence ${hb.seq} is not above the last accepted (${prev.seq})` };
    }
    const models = JSON.stringify(hb.models);
    if (prev) {
      this.sql.exec(
        "UPDATE nodes SET url = ?, models = ?, capacity = ?, in_flight = ?, last_heartbeat = ?, seq = ? WHERE id = ?",
        hb.url, models, hb.capacity, hb.in_flight, now, hb.seq, hb.node_id,
      );
    } else {
      this.sql.exec(
        "INSERT INTO nodes (id, url, models, capacity, in_flight, last_heartbeat, seq, registered, rep_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        hb.node_id, hb.url, models, hb.capacity, hb.in_flight, now, hb.seq, now, now,
      );
    }
    return { ok: true, registered: !prev };
  }

  /** Nodes that heartbeated within the TTL. */
  snapshot(now: number): RegistryNode[] {
    const rows = this.sql.exec<NodeRow>("SELECT * FROM nodes WHERE last_heartbeat >= ? ORDER BY id", now - NODE_TTL_MS).toArray();
    return rows.map((r) => ({
      id: r.id,
      url: r.url,
      models: JSON.parse(r.models) as AdvertisedModel[],
      capacity: r.capacity,
      in_flight: r.in_flight,
      last_heartbeat: r.last_heartbeat,
      registered: r.registered,
      latency_ms: r.lat_ms,
      reputation: reputationScore(decay({ successes: r.rep_s, failures: r.rep_f, at: r.rep_at }, now)),
      requests: r.requests,
    }));
  }

  /** Folds a batch of dispatch outcomes into each node's latency estimate and reputation: one read and one write per node. */
  recordOutcomes(outcomes: NodeOutcome[]): void {
    for (const [nodeId, list] of groupBy(outcomes, (o) => o.nodeId)) {
      const r = this.sql.exec<NodeRow>("SELECT lat_ms, lat_at, rep_s, rep_f, rep_at FROM nodes WHERE id = ?", nodeId).toArray()[0];
      if (!r) continue;
      let latency: LatencyEstimate | null = r.lat_ms === null || r.lat_at === null ? null : { ms: r.lat_ms, at: r.lat_at };
      let rep: Reputation = { successes: r.rep_s, failures: r.rep_f, at: r.rep_at };
      for (const o of list.sort((a, b) => a.at - b.at)) {
        if (o.ttfbMs !== null) latency = updateLatency(latency, o.ttfbMs, o.at);
        rep = recordOutcome(rep, o.ok, o.at);
      }
      this.sql.exec(
        "UPDATE nodes SET lat_ms = ?, lat_at = ?, rep_s = ?, rep_f = ?, rep_at = ?, requests = requests + ? WHERE id = ?",
        latency?.ms ?? null, latency?.at ?? null, rep.successes, rep.failures, rep.at, list.length, nodeId,
      );
    }
  }
}
