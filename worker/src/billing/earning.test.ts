import { decodeReceipt, receiptLeaf, toHex } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { billable, entry } from "../../test/usage-entries.js";
import { earningOf, nativeReceiptLeaf } from "./earning.js";

describe("earningOf", () => {
  it("owes the node its amount for a billable receipt, with the receipt's leaf and time", async () => {
    const e = billable("req_1", 105, { node_amount: 100, prompt_tokens: 30, completion_tokens: 40 });
    const signed = decodeReceipt(e.receipt ?? "");
    if (!signed) throw new Error("test receipt does not decode");
    expect(await earningOf(e)).toEqual({
      request_id: "req_1",
      node_id: e.node_id,
      receipt: e.receipt,
      leaf: toHex(receiptLeaf(signed.bytes)),
      prompt_tokens: 30,
      completion_tokens: 40,
      amount: 100,
      created: e.created + 500,
    });
  });

  it("owes nothing for an unbillable entry, one without a receipt, or a receipt that does not decode", async () => {
    expect(await earningOf(entry("a"))).toBeNull();
    expect(await earningOf({ ...billable("b", 5), billable: false })).toBeNull();
    expect(await earningOf({ ...billable("c", 5), receipt: null })).toBeNull();
    expect(await earningOf({ ...billable("d", 5), receipt: "not.a-receipt" })).toBeNull();
  });

  it("hashes a leaf natively as schemas' receiptLeaf does", async () => {
    for (const size of [0, 1, 55, 56, 64, 300, 5_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) & 0xff);
      expect(toHex(await nativeReceiptLeaf(bytes))).toBe(toHex(receiptLeaf(bytes)));
    }
  });
});
