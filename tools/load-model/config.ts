// What one run of the load model simulates. The defaults are issue 17's production figures.

export interface LoadConfig {
  isolates: number;
  colos: number;
  /** Requests per second arriving across all isolates. */
  rps: number;
  keys: number;
  /** The share of all requests the one hot key makes (the others share the rest evenly). */
  hotShare: number;
  nodes: number;
  /** ADMISSION_CELLS; by default one per CELL_RPS requests/s, as wrangler.toml advises. */
  cells: number;
  /** Simulated seconds before counting starts (caches fill, batchers settle), then seconds counted. */
  warmupSeconds: number;
  seconds: number;
  /** Round trip of one call to a Durable Object, simulated ms. */
  rttMs: number;
  /** How long a node takes to answer, simulated ms: uniform in [min, max]. */
  answerMs: { min: number; max: number };
  /** An admin's GET /admin/usage: the first at the start of the counted window, then this often. */
  adminUsageEveryMs: number;
  seed: number;
}

/**
 * wrangler.toml: "about one [admission cell] per 100 requests/s at peak": each request costs its cell an acquire and a
 * release, so a cell hears about 200 calls a second, within a quarter of the soft limit.
 */
export const CELL_RPS = 100;

export function cellsFor(rps: number): number {
  return Math.max(1, Math.round(rps / CELL_RPS));
}

export const PRODUCTION: LoadConfig = {
  isolates: 1_000,
  colos: 300,
  rps: 10_000,
  keys: 10_000,
  hotShare: 0.5,
  nodes: 10_000,
  cells: cellsFor(10_000),
  warmupSeconds: 5,
  seconds: 30,
  rttMs: 10,
  answerMs: { min: 1_000, max: 3_000 },
  adminUsageEveryMs: 60_000,
  seed: 1,
};
