// Results of the heartbeat-verify phase and how they print. Pure (no workerd), so the verdict and table are
// unit-tested.
import { HEARTBEAT_INTERVAL_MS } from "@meshgate/schemas";
import { quantile } from "../stats.js";

/** 10,000 nodes heartbeating every 2 s, verified by one isolate. */
export const HEARTBEAT_VERIFY_TARGET = 5_000;

export interface HeartbeatVerifyOptions {
  nodes: number;
  batch: number;
  rounds: number;
}

export interface EngineResult {
  /** Median over rounds of verified heartbeats per second of wall time. */
  perSecond: number;
  usPerVerify: number;
  /** Each round's verified/s, in the order measured. */
  samples: number[];
}

export interface HeartbeatVerifyResult extends HeartbeatVerifyOptions {
  webcrypto: EngineResult;
  noble: EngineResult;
  target: number;
  /** WebCrypto alone is judged: it is what the gateway uses; noble is there for comparison. */
  pass: boolean;
}

export function engineResult(samples: readonly number[]): EngineResult {
  const perSecond = quantile(
    [...samples].sort((a, b) => a - b),
    0.5,
  );
  return { perSecond, usPerVerify: perSecond > 0 ? 1e6 / perSecond : Number.POSITIVE_INFINITY, samples: [...samples] };
}

export function heartbeatVerifyResult(
  opts: HeartbeatVerifyOptions,
  webcrypto: EngineResult,
  noble: EngineResult,
  target = HEARTBEAT_VERIFY_TARGET,
): HeartbeatVerifyResult {
  return { ...opts, webcrypto, noble, target, pass: webcrypto.perSecond >= target };
}

export function reproduceCommand(opts: HeartbeatVerifyOptions): string {
  return `node --import tsx tools/bench/heartbeats/run.ts --nodes ${opts.nodes} --batch ${opts.batch} --rounds ${opts.rounds}`;
}

const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const us = (n: number): string =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : "∞";

export function formatHeartbeatVerify(r: HeartbeatVerifyResult): string {
  const meets = (e: EngineResult) => e.perSecond >= r.target;
  const rows: [string, string, string, string][] = [
    ["engine", "verified/s", "µs/verify", `target ≥ ${int(r.target)}/s`],
    ["WebCrypto Ed25519", int(r.webcrypto.perSecond), us(r.webcrypto.usPerVerify), r.pass ? "PASS" : "FAIL"],
    [
      "@noble/ed25519 (JS)",
      int(r.noble.perSecond),
      us(r.noble.usPerVerify),
      `${meets(r.noble) ? "meets" : "below"} (reference only)`,
    ],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]?.length ?? 0)));
  const line = (row: [string, string, string, string]) =>
    `  ${row[0].padEnd(widths[0] ?? 0)}  ${row[1].padStart(widths[1] ?? 0)}  ${row[2].padStart(widths[2] ?? 0)}  ${row[3]}`;
  const nodesAtInterval = (r.webcrypto.perSecond * HEARTBEAT_INTERVAL_MS) / 1000;
  return [
    `Heartbeat verification in one workerd isolate (${int(r.nodes)} nodes, batches of ${int(r.batch)}, median of ${r.rounds} rounds)`,
    ...rows.map(line),
    `  Each: RFC 9421 verify (node-key header, thumbprint keyid) + JSON.parse + HeartbeatSchema; wall time from ` +
      `outside.`,
    `  WebCrypto keeps up with ~${int(nodesAtInterval)} nodes at one heartbeat per ${HEARTBEAT_INTERVAL_MS / 1000} s.`,
    `  Reproduce: ${reproduceCommand(r)}`,
    ``,
  ].join("\n");
}
