import { describe, expect, it } from "vitest";
import { summaryFromJson, summaryToJson } from "./summary-json.js";

const MODEL = "meta-llama/Llama-3.1-8B-Instruct-000"; // a typical 36-character model id

function cellsJson(cells: number, models: number): string {
  const summaries = Array.from({ length: cells }, (_, cell) =>
    summaryToJson({
      cell,
      at: 1_765_065_600_123 + cell,
      models: new Map(
        Array.from({ length: models }, (_, i) => [`${MODEL}${i}`, { free: 4123, ttftMs: 187.3456789, nodes: 555 }]),
      ),
    }),
  );
  return JSON.stringify({ version: 123_456, cells: summaries });
}

describe("the directory's JSON", () => {
  it("round-trips a cell's summary, latency to a tenth of a millisecond", () => {
    const json = summaryToJson({ cell: 3, at: 10, models: new Map([["m", { free: 2, ttftMs: 123.456, nodes: 4 }]]) });
    expect(summaryFromJson(json)).toEqual({
      cell: 3,
      at: 10,
      models: new Map([["m", { free: 2, ttftMs: 123.5, nodes: 4 }]]),
    });
  });

  it("costs about 80 bytes a model a cell (the README's figure): 18 cells × 3 models in about 5 KB", () => {
    const one = cellsJson(18, 1).length;
    const three = cellsJson(18, 3).length;
    const perModelPerCell = (three - one) / (18 * 2);
    expect(perModelPerCell).toBeGreaterThan(70);
    expect(perModelPerCell).toBeLessThan(90);
    expect(three).toBeLessThan(5_500);
  });
});
