import { describe, expect, it } from "vitest";
import { splitSettlement } from "./earlier-receipts.js";

describe("splitSettlement", () => {
  const leaves = [
    { requestId: "chaos-1", amount: 10 },
    { requestId: "early-1", amount: 100 },
    { requestId: "chaos-2", amount: 5 },
    { requestId: "early-2", amount: 200 },
  ];

  it("judges the chaos run by its own leaves and finds every earlier receipt settled once", () => {
    expect(splitSettlement(leaves, new Set(["early-1", "early-2"]))).toEqual({
      chaos: { requestIds: ["chaos-1", "chaos-2"], receipts: 2, amount: 15 },
      earlierMissing: [],
      earlierTwice: [],
      earlierSettled: 2,
    });
  });

  it("names an earlier billable receipt the statement lacks, and one it holds twice", () => {
    const split = splitSettlement(
      [...leaves, { requestId: "early-1", amount: 100 }],
      new Set(["early-1", "early-2", "early-3"]),
    );
    expect(split).toMatchObject({ earlierMissing: ["early-3"], earlierTwice: ["early-1"], earlierSettled: 3 });
    expect(split.chaos.receipts).toBe(2);
  });

  it("leaves a leaf billed to nobody to the chaos run, where checkLedger flags it", () => {
    expect(splitSettlement([{ requestId: "stray", amount: 1 }], new Set()).chaos.requestIds).toEqual(["stray"]);
  });
});
