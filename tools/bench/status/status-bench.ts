// The mesh status's cost at scale: how long the registry takes to build the model list (catalog/model-catalog.ts)
// for 100, 1,000 and 10,000 live nodes, and how many bytes a reader gets, against the baseline measured in the same
// run: the node list each isolate used to read whole to answer /v1/models (the nodes with their model offers only,
// so the baseline is a lower bound: the real listing carries keys, URLs and routing state too).
import { catalogModels, type CatalogNode } from "@meshgate/worker/catalog/model-catalog";
import { summarize, type Summary } from "../stats.js";

export interface StatusBenchOptions {
  sizes: number[];
  rounds: number;
}

export interface StatusSizeResult {
  nodes: number;
  models: number;
  /** Milliseconds to build the model list from the live nodes. */
  buildMs: Summary;
  /** Bytes of the model list a reader gets (JSON). */
  statusBytes: number;
  /** Bytes of the node list each isolate read before (JSON, offers only). */
  baselineBytes: number;
}

const MODELS = 40;
const OFFERS_PER_NODE = 3;

/** A deterministic mesh: each node offers three of forty models at its own price and context length. */
export function statusMesh(size: number): CatalogNode[] {
  return Array.from({ length: size }, (_, i) => ({
    registered: 1_800_000_000_000 + i,
    offers: Array.from({ length: OFFERS_PER_NODE }, (_, k) => ({
      id: `model-${(i * 7 + k * 13) % MODELS}`,
      owned_by: "bench",
      price: { prompt: 10_000 * (1 + (i % 97)), completion: 20_000 * (1 + (i % 89)) },
      context_length: 4_096 * (1 + (i % 8)),
    })),
  }));
}

export function runStatusBench(opts: StatusBenchOptions): StatusSizeResult[] {
  return opts.sizes.map((size) => {
    const nodes = statusMesh(size);
    const ttft = (model: string) => 100 + (model.length % 7);
    const samples: number[] = [];
    let models = catalogModels(nodes, ttft);
    for (let r = 0; r < opts.rounds; r++) {
      const start = process.hrtime.bigint();
      models = catalogModels(nodes, ttft);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return {
      nodes: size,
      models: models.length,
      buildMs: summarize(samples),
      statusBytes: JSON.stringify(models).length,
      baselineBytes: JSON.stringify(nodes).length,
    };
  });
}

export function formatStatusBench(results: readonly StatusSizeResult[], command: string): string {
  const rows = results.map(
    (r) =>
      `| ${r.nodes.toLocaleString("en")} | ${r.models} | ${r.buildMs.p50.toFixed(2)} | ${r.buildMs.p99.toFixed(2)} | ` +
      `${(r.statusBytes / 1024).toFixed(1)} KiB | ${(r.baselineBytes / 1024).toFixed(1)} KiB |`,
  );
  return [
    `Mesh status and model list (${command})`,
    "Built by the registry at most once a second; each colo's cache and isolate keep one copy for 2 s.",
    "| live nodes | models | build ms p50 | build ms p99 | list a reader gets | baseline: node list per isolate |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
}
