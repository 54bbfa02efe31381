import { describe, expect, it } from "vitest";
import { billAnswer, isMeteringFailure, type AnswerFacts } from "./answer-billing.js";
import type { Receipt } from "@meshgate/schemas";

const usage = { prompt_tokens: 1_000, completion_tokens: 200, total_tokens: 1_200 };
const receipt = { price: { prompt: 1_000_000, completion: 2_000_000 } } as Receipt;
const facts: AnswerFacts = {
  usage,
  complete: true,
  estimate: { prompt_tokens: 900, completion_tokens: 150, total_tokens: 1_050 },
  receipt: { status: "ok", receipt },
  worstCase: { promptTokens: 4_000, completionTokens: 256 },
  feeBps: 1_000,
};

describe("billAnswer", () => {
  it("bills the reported usage at the receipt's price plus the fee", () => {
    // 1,000 × 1 + 200 × 2 = 1,400 micro-units to the node; 10% fee: the client pays 1,540.
    expect(billAnswer(facts)).toEqual({ ...usage, cost: 1_540, node_amount: 1_400, billable: true, estimated: false, receipt_status: "ok" });
  });

  it("records its own estimate, unbilled, when the node reported no usage", () => {
    expect(billAnswer({ ...facts, usage: null, receipt: null })).toEqual({
      ...facts.estimate,
      cost: 0,
      node_amount: 0,
      billable: false,
      estimated: true,
      receipt_status: "estimated",
    });
  });

  it("bills nothing for an answer that did not complete", () => {
    expect(billAnswer({ ...facts, complete: false })).toMatchObject({ ...usage, billable: false, cost: 0, receipt_status: "incomplete" });
    expect(billAnswer({ ...facts, complete: false, usage: null })).toMatchObject({ billable: false, estimated: false, receipt_status: "incomplete" });
  });

  it("bills nothing without a receipt that checks out", () => {
    expect(billAnswer({ ...facts, receipt: null })).toMatchObject({ billable: false, receipt_status: "missing" });
    expect(billAnswer({ ...facts, receipt: { status: "invalid", reason: "x" } })).toMatchObject({ billable: false, receipt_status: "invalid" });
    expect(billAnswer({ ...facts, receipt: { status: "mismatch", reason: "x" } })).toMatchObject({ billable: false, cost: 0, node_amount: 0, receipt_status: "mismatch" });
  });

  it("bills nothing past the reserved worst case: a node that ignored the cap is not paid for it", () => {
    expect(billAnswer({ ...facts, usage: { ...usage, completion_tokens: 257, total_tokens: 1_257 } })).toMatchObject({ billable: false, receipt_status: "mismatch" });
    expect(billAnswer({ ...facts, usage: { ...usage, prompt_tokens: 4_001, total_tokens: 4_201 } })).toMatchObject({ billable: false, receipt_status: "mismatch" });
  });

  it("holds wrong metering against the node, but not a missing or unverifiable receipt, or an answer cut short", () => {
    expect(["mismatch", "estimated"].every((s) => isMeteringFailure(s as "mismatch"))).toBe(true);
    expect(isMeteringFailure("ok")).toBe(false);
    expect(isMeteringFailure("missing")).toBe(false);
    expect(isMeteringFailure("invalid")).toBe(false);
    expect(isMeteringFailure("incomplete")).toBe(false);
  });
});
