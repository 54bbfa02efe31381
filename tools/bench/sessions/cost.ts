// A month of keeping nodes live, priced at Cloudflare's published rates (Workers Paid), for the session design and
// for today's heartbeats. Gross: the plan's included allowances (10 M Workers requests, 1 M DO requests, 400,000
// GB-s, ...) and the $5 minimum are left out, since at 10,000 nodes they are noise.

export const PRICES = {
  /** Workers: $0.30 per million requests. */
  workersRequestsPerMillion: 0.3,
  /** Workers: $0.02 per million CPU milliseconds. */
  workersCpuMsPerMillion: 0.02,
  /** Durable Objects: $0.15 per million requests (HTTP, RPC, alarm invocations, WebSocket messages at 20:1). */
  doRequestsPerMillion: 0.15,
  /** Incoming WebSocket messages billed per DO request. */
  wsMessagesPerRequest: 20,
  /** Durable Objects: $12.50 per million GB-s of wall time while active, at 128 MB (Cloudflare's examples: 0.128). */
  doGbSecondsPerMillion: 12.5,
  doMemoryGb: 0.128,
  /** SQLite-backed storage: $1.00 per million rows written. */
  rowsWrittenPerMillion: 1,
} as const;
export type Prices = typeof PRICES;

export const MINUTES_PER_MONTH = 30 * 24 * 60;

/** One node's steady-state load in the session design, per minute. */
export interface SessionRates {
  /** Text "ping"s: incoming WebSocket messages, answered by the runtime without running the object. */
  pingsPerNodeMinute: number;
  /** Silence-alarm invocations: each a request and a wake of the object. */
  alarmsPerNodeMinute: number;
  registryRpcsPerNodeMinute: number;
  rowsPerNodeMinute: number;
  /** Wall time billed per alarm wake, in seconds. */
  wakeSeconds: number;
}

/** Today's design: each node POSTs a signed heartbeat that the Worker verifies and passes to the one registry. */
export interface HeartbeatRates {
  heartbeatsPerNodeMinute: number;
  rowsPerHeartbeat: number;
  /** Workers CPU per heartbeat, in milliseconds. */
  cpuMsPerHeartbeat: number;
  /** Objects kept busy all month (the registry: at thousands of heartbeats a second it never idles). */
  busyObjects: number;
}

export interface Usage {
  workersRequests: number;
  workersCpuMs: number;
  doRequests: number;
  doGbSeconds: number;
  rowsWritten: number;
}

export type Bill = Usage & { total: number };

export function sessionUsage(nodes: number, r: SessionRates, prices: Prices = PRICES): Usage {
  const minutes = nodes * MINUTES_PER_MONTH;
  const alarms = r.alarmsPerNodeMinute * minutes;
  return {
    workersRequests: 0,
    workersCpuMs: 0,
    doRequests:
      (r.pingsPerNodeMinute / prices.wsMessagesPerRequest + r.alarmsPerNodeMinute) * minutes +
      r.registryRpcsPerNodeMinute * minutes,
    doGbSeconds: alarms * r.wakeSeconds * prices.doMemoryGb,
    rowsWritten: r.rowsPerNodeMinute * minutes,
  };
}

export function heartbeatUsage(nodes: number, r: HeartbeatRates, prices: Prices = PRICES): Usage {
  const heartbeats = nodes * MINUTES_PER_MONTH * r.heartbeatsPerNodeMinute;
  return {
    workersRequests: heartbeats,
    workersCpuMs: heartbeats * r.cpuMsPerHeartbeat,
    // One RPC from the Worker to the registry per heartbeat.
    doRequests: heartbeats,
    doGbSeconds: r.busyObjects * MINUTES_PER_MONTH * 60 * prices.doMemoryGb,
    rowsWritten: heartbeats * r.rowsPerHeartbeat,
  };
}

/** Dollars per line and in all. */
export function bill(usage: Usage, prices: Prices = PRICES): Bill {
  const lines: Usage = {
    workersRequests: (usage.workersRequests / 1e6) * prices.workersRequestsPerMillion,
    workersCpuMs: (usage.workersCpuMs / 1e6) * prices.workersCpuMsPerMillion,
    doRequests: (usage.doRequests / 1e6) * prices.doRequestsPerMillion,
    doGbSeconds: (usage.doGbSeconds / 1e6) * prices.doGbSecondsPerMillion,
    rowsWritten: (usage.rowsWritten / 1e6) * prices.rowsWrittenPerMillion,
  };
  const total = Object.values(lines).reduce((a, b) => a + b, 0);
  return { ...lines, total };
}
