import { describe, expect, it } from "vitest";
import type { Receipt } from "@meshgate/schemas";
import { billAnswer, type AnswerFacts } from "./answer-billing.js";

const usage = { prompt_tokens: 1_000, completion_tokens: 200, total_tokens: 1_200 };
const receipt = { price: { prompt: 1_000_000, completion: 2_000_000 } } as Receipt;
const facts: AnswerFacts = {
  claim: usage,
  ending: "complete",
  estimate: { prompt_tokens: 900, completion_tokens: 150, total_tokens: 1_050 },
  receipt: { status: "ok", receipt },
  bounds: { promptTokens: 4_000, completionTokens: 256 },
  blameAbove: { promptTokens: 4_000, completionTokens: 256 },
  mediaInPrompt: false,
  reserved: null,
  feeBps: 1_000,
};

describe("billAnswer", () => {
  it("bills the claimed usage at the receipt's price plus the fee", () => {
    // 1,000 × 1 + 200 × 2 = 1,400 micro-units to the node; 10% fee: the client pays 1,540.
    expect(billAnswer(facts)).toEqual({
      bill: { ...usage, cost: 1_540, node_amount: 1_400, billable: true, estimated: false, receipt_status: "ok" },
      nodeAtFault: false,
    });
  });

  it("bills an answer cut short for its client from the node's receipt, as partial", () => {
    const partial = { prompt_tokens: 1_000, completion_tokens: 10, total_tokens: 1_010 };
    expect(billAnswer({ ...facts, ending: "cut_for_client", claim: partial }).bill).toEqual({
      ...partial,
      cost: 1_122,
      node_amount: 1_020,
      billable: true,
      estimated: false,
      receipt_status: "partial",
    });
  });

  it("records its own estimate, unbilled and against the node, when a complete answer reported no usage", () => {
    expect(billAnswer({ ...facts, claim: null, receipt: null })).toEqual({
      bill: {
        ...facts.estimate,
        cost: 0,
        node_amount: 0,
        billable: false,
        estimated: true,
        receipt_status: "estimated",
      },
      nodeAtFault: true,
    });
  });

  it("bills nothing for an answer that broke off, nor for one cut short without a receipt, and blames nobody", () => {
    expect(billAnswer({ ...facts, ending: "broken" })).toMatchObject({
      bill: { ...usage, billable: false, cost: 0, receipt_status: "incomplete" },
      nodeAtFault: false,
    });
    expect(billAnswer({ ...facts, ending: "cut_for_client", claim: null })).toMatchObject({
      bill: { billable: false, estimated: false, receipt_status: "incomplete" },
      nodeAtFault: false,
    });
  });

  it("bills nothing without a receipt that checks out; only one that disagrees counts against the node", () => {
    expect(billAnswer({ ...facts, receipt: null })).toMatchObject({
      bill: { billable: false, receipt_status: "missing" },
      nodeAtFault: false,
    });
    expect(billAnswer({ ...facts, receipt: { status: "invalid", reason: "x" } })).toMatchObject({
      bill: { billable: false, receipt_status: "invalid" },
      nodeAtFault: false,
    });
    expect(billAnswer({ ...facts, receipt: { status: "mismatch", reason: "x" } })).toMatchObject({
      bill: { billable: false, cost: 0, node_amount: 0, receipt_status: "mismatch" },
      nodeAtFault: true,
    });
  });

  it(
    "bills nothing for a claim above what the gateway saw, records the bounded counts, and holds it against " +
      "the node",
    () => {
      const inflated = { prompt_tokens: 1_000, completion_tokens: 100_000_000, total_tokens: 100_001_000 };
      expect(billAnswer({ ...facts, claim: inflated })).toEqual({
        bill: {
          prompt_tokens: 1_000,
          completion_tokens: 256,
          total_tokens: 1_256,
          cost: 0,
          node_amount: 0,
          billable: false,
          estimated: false,
          receipt_status: "mismatch",
        },
        nodeAtFault: true,
      });
      const huge = { prompt_tokens: 2 ** 53 - 2, completion_tokens: 1, total_tokens: 2 ** 53 - 1 };
      expect(billAnswer({ ...facts, claim: huge }).bill).toMatchObject({
        prompt_tokens: 4_000,
        completion_tokens: 1,
        total_tokens: 4_001,
        billable: false,
      });
    },
  );

  it("does not blame the node for a prompt above a bound that rests on the request's media parts", () => {
    const claim = { ...usage, prompt_tokens: 4_001, total_tokens: 4_201 };
    expect(billAnswer({ ...facts, claim, mediaInPrompt: true })).toMatchObject({
      bill: { billable: false, receipt_status: "mismatch" },
      nodeAtFault: false,
    });
    expect(billAnswer({ ...facts, claim, mediaInPrompt: false }).nodeAtFault).toBe(true);
  });

  it("does not blame a node whose claim is above the bound only by what it sent after its client left", () => {
    const claim = { ...usage, completion_tokens: 300, total_tokens: 1_300 };
    const cut = { ...facts, ending: "cut_for_client" as const, claim };
    expect(billAnswer({ ...cut, blameAbove: { promptTokens: 4_000, completionTokens: 400 } })).toMatchObject({
      bill: { billable: false, cost: 0, completion_tokens: 256, receipt_status: "mismatch" },
      nodeAtFault: false,
    });
    expect(billAnswer({ ...cut, blameAbove: { promptTokens: 4_000, completionTokens: 299 } }).nodeAtFault).toBe(true);
  });

  it("never charges more than the budget holds for the request", () => {
    expect(billAnswer({ ...facts, reserved: 1_540 }).bill.billable).toBe(true);
    expect(billAnswer({ ...facts, reserved: 1_539 })).toMatchObject({
      bill: { billable: false, cost: 0, receipt_status: "mismatch" },
      nodeAtFault: false,
    });
  });
});
