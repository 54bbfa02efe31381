// Heartbeat signature verification throughput in ONE workerd isolate, WebCrypto vs @noble/ed25519. Nodes are
// simulated in Node (real keys, real signRequest); verify-worker.ts runs the gateway's verification on batches of
// their heartbeats, and each batch is timed from here (workerd's own clock stands still while JavaScript runs).
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  jwkThumbprint,
  newSeed,
  utf8,
  webCryptoSignerFromSeed,
  type Heartbeat,
  type WebCryptoKeyPair,
} from "@meshgate/schemas";
import { signNodeRequest } from "@meshgate/schemas/testing";
import { startGateway, type Gateway } from "../../gateway/gateway.js";
import { writeBenchWorkerConfig } from "../bench-worker-config.js";
import {
  engineResult,
  heartbeatVerifyResult,
  type HeartbeatVerifyOptions,
  type HeartbeatVerifyResult,
} from "./format.js";
import type { Engine, SignedHeartbeat, VerifyBatch, VerifyOutcome } from "./verify-worker.js";

export { formatHeartbeatVerify, HEARTBEAT_VERIFY_TARGET, type HeartbeatVerifyResult } from "./format.js";

const VERIFY_WORKER = fileURLToPath(new URL("./verify-worker.ts", import.meta.url));
const HEARTBEAT_URL = "https://gateway.meshgate.test/v1/nodes/heartbeat";

async function makeNodes(count: number): Promise<WebCryptoKeyPair[]> {
  const nodes: WebCryptoKeyPair[] = [];
  for (let i = 0; i < count; i++) nodes.push(await webCryptoSignerFromSeed(newSeed(), jwkThumbprint));
  return nodes;
}

/** What a node agent sends: a signed POST with its public key in NODE_KEY_HEADER. */
async function signHeartbeat(node: WebCryptoKeyPair, index: number, now: number): Promise<SignedHeartbeat> {
  const heartbeat: Heartbeat = {
    node_id: node.signer.keyId,
    url: `https://node-${index}.meshgate.test/`,
    models: [{ id: "llama-3.1-8b-instruct" }, { id: "qwen2.5-7b-instruct" }],
    capacity: 8,
    in_flight: index % 8,
    timestamp: now,
    seq: now,
  };
  const body = JSON.stringify(heartbeat);
  const headers = await signNodeRequest({
    url: HEARTBEAT_URL,
    body: utf8(body),
    publicKey: node.publicKey,
    signer: node.signer,
    now,
  });
  return { url: HEARTBEAT_URL, headers: [...headers.entries()], body };
}

/**
 * `count` heartbeats signed just now, cycling through the nodes from `first`. Signed fresh for every batch so each
 * is seconds old when verified, well inside the 30 s the signatures are valid for, however long noble takes.
 */
function signBatch(nodes: readonly WebCryptoKeyPair[], first: number, count: number): Promise<SignedHeartbeat[]> {
  const now = Date.now();
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const index = (first + i) % nodes.length;
      const node = nodes[index];
      if (!node) throw new Error(`no node ${index}`);
      return signHeartbeat(node, index, now);
    }),
  );
}

/** Sends one batch and returns the wall time it took; every heartbeat must verify, or the numbers mean nothing. */
async function verifyBatch(worker: Gateway, engine: Engine, requests: SignedHeartbeat[]): Promise<number> {
  const payload = JSON.stringify({ engine, requests } satisfies VerifyBatch);
  const started = performance.now();
  const res = await fetch(worker.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: payload,
  });
  const text = await res.text();
  const seconds = (performance.now() - started) / 1000;
  if (!res.ok) throw new Error(`verify worker answered ${res.status}: ${text}`);
  const outcome = JSON.parse(text) as VerifyOutcome;
  if (outcome.failed !== 0 || outcome.verified !== requests.length) {
    throw new Error(
      `${engine}: ${outcome.failed} of ${requests.length} heartbeats failed to verify (first: ${outcome.firstError ?? "?"})`,
    );
  }
  return seconds;
}

export async function heartbeatVerifyPhase(
  opts: HeartbeatVerifyOptions,
  progress: (line: string) => void,
): Promise<HeartbeatVerifyResult> {
  for (const [name, value] of Object.entries(opts)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`heartbeat verify: ${name} must be a positive integer`);
  }
  // No cf.json download when Miniflare starts (startGateway also passes cf: false).
  process.env["CLOUDFLARE_CF_FETCH_ENABLED"] ??= "false";
  progress(`heartbeat verify: generating ${opts.nodes} node keys`);
  const nodes = await makeNodes(opts.nodes);
  const worker = await startGateway({
    configPath: writeBenchWorkerConfig({
      name: "meshgate-bench-heartbeat-verify",
      main: VERIFY_WORKER,
      purpose: "the heartbeat-verification Worker",
    }),
    vars: {},
    sink: (line) => progress(`[verify-worker] ${line}`),
  });
  try {
    // Warm-up, untimed: every node's key through WebCrypto once, so thumbprints and imported keys are cached as they
    // are for nodes that heartbeat every 2 s; then a batch per engine, so both paths are JIT-compiled (the first
    // timed round still ran ~30% slow with less) and noble has built its base-point tables.
    progress(`heartbeat verify: warming up (${opts.nodes} keys, then one batch per engine)`);
    for (let first = 0; first < opts.nodes; first += opts.batch) {
      await verifyBatch(worker, "webcrypto", await signBatch(nodes, first, Math.min(opts.batch, opts.nodes - first)));
    }
    for (const engine of ["webcrypto", "noble"] as const)
      await verifyBatch(worker, engine, await signBatch(nodes, 0, opts.batch));

    const samples: Record<Engine, number[]> = { webcrypto: [], noble: [] };
    for (let round = 0; round < opts.rounds; round++) {
      // Alternate which engine goes first, so a slow drift of the (shared, noisy) machine hits both alike.
      const order: Engine[] = round % 2 === 0 ? ["webcrypto", "noble"] : ["noble", "webcrypto"];
      for (const engine of order) {
        const batch = await signBatch(nodes, round * opts.batch, opts.batch);
        const seconds = await verifyBatch(worker, engine, batch);
        samples[engine].push(opts.batch / seconds);
        progress(
          `heartbeat verify: round ${round + 1}/${opts.rounds} ${engine}: ${Math.round(opts.batch / seconds)}/s`,
        );
      }
    }
    return heartbeatVerifyResult(opts, engineResult(samples.webcrypto), engineResult(samples.noble));
  } finally {
    await worker.stop();
  }
}
