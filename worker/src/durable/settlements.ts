// routes/settlements.ts still imports Overlap from this path, and that file is being reworked elsewhere: point it at
// ./settlements/settlements.js and delete this file once that rework has landed.
export type { Overlap } from "./settlements/settlements.js";
