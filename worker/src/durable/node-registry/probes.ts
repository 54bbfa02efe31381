// The registry's health-probe records, over the registry's SQLite: per node, whether the last probe reached it, the
// round trip, and how many probes in a row failed. Synchronous, like NodeTrust, so a registry method stays atomic.
import { NODE_TTL_MS } from "@meshgate/schemas";
import type { NodeProbe, ProbeResult, ProbeTarget } from "./types.js";

export type ProbeRow = { node_id: string; reachable: number; rtt_ms: number | null; at: number; failures: number };
type TargetRow = { id: string; url: string };

export class NodeProbes {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * Nodes dispatched to at a URL (URL proven, not banned, heartbeated within the TTL or live through a session), least
   * recently probed first and never-probed before all, so successive runs of `limit` cover every node in turn.
   */
  targets(now: number, limit: number): ProbeTarget[] {
    return this.sql
      .exec<TargetRow>(
        `SELECT n.id AS id, n.url AS url FROM nodes n LEFT JOIN probes p ON p.node_id = n.id
         WHERE (n.last_heartbeat >= ? OR n.session_open = 1) AND n.banned_at IS NULL AND n.verified_url = n.url
         ORDER BY p.at ASC NULLS FIRST, n.id LIMIT ?`,
        now - NODE_TTL_MS,
        Math.max(0, Math.floor(limit)),
      )
      .toArray()
      .map((r) => ({ id: r.id, url: r.url }));
  }

  /**
   * Stores each result, counting failures in a row (a success resets them). A result older than the one stored (two
   * runs overlapping) is ignored, and so is one for a node the registry no longer knows.
   */
  record(results: readonly ProbeResult[]): void {
    for (const r of results) {
      const reachable = r.reachable ? 1 : 0;
      this.sql.exec(
        `INSERT INTO probes (node_id, reachable, rtt_ms, at, failures)
         SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM nodes WHERE id = ?)
         ON CONFLICT (node_id) DO UPDATE SET reachable = excluded.reachable, rtt_ms = excluded.rtt_ms, at = excluded.at,
           failures = CASE WHEN excluded.reachable = 1 THEN 0 ELSE probes.failures + 1 END
         WHERE excluded.at >= probes.at`,
        r.nodeId,
        reachable,
        r.rttMs,
        r.at,
        1 - reachable,
        r.nodeId,
      );
    }
    // Nodes the registry forgot (unproven and silent for an hour) leave their records behind; a run sweeps them.
    this.sql.exec("DELETE FROM probes WHERE node_id NOT IN (SELECT id FROM nodes)");
  }

  /** Every node's probe record in one query, keyed by node id: for the admin listing and the routing snapshot. */
  all(): Map<string, NodeProbe> {
    const probes = new Map<string, NodeProbe>();
    for (const r of this.sql.exec<ProbeRow>("SELECT node_id, reachable, rtt_ms, at, failures FROM probes"))
      probes.set(r.node_id, probeOf(r));
    return probes;
  }
}

export function probeOf(r: ProbeRow): NodeProbe {
  return { reachable: r.reachable === 1, rtt_ms: r.rtt_ms, at: r.at, failures: r.failures };
}
