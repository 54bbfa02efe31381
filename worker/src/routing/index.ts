// The router's public surface, for the Worker's request path and for the simulator (tools/simulate), which runs this
// very code against a simulated mesh.
export * from "./capacity.js";
export * from "./cell-choice.js";
export * from "./cell-summary.js";
export * from "./cells.js";
export * from "./client-controls.js";
export * from "./latency.js";
export * from "./lease-book.js";
export * from "./node-estimates.js";
export * from "./node-state.js";
export * from "./outcome.js";
export * from "./outcome-memory.js";
export * from "./outlier.js";
export * from "./pick.js";
export * from "./prefill.js";
export * from "./reputation.js";
export * from "./routing-table.js";
export * from "./seeded-random.js";
export * from "./throughput.js";
export * from "./timeout-evidence.js";
export * from "./weighted-sampler.js";
