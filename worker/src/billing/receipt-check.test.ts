import {
  bodyDigest,
  encodeReceipt,
  jwkThumbprint,
  receiptBytes,
  utf8,
  webCryptoSignerFromSeed,
  webCryptoVerify,
  type Receipt,
} from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { checkReceipt, RECEIPT_CLOCK_SKEW_MS, type Observed } from "./receipt-check.js";

// RFC 8032 §7.1 TEST 2 seed: a published key, fine for tests.
const NODE_SEED = "TM0Imyj_ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U-4pvs";
const node = await webCryptoSignerFromSeed(NODE_SEED, jwkThumbprint);
const other = await webCryptoSignerFromSeed("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A", jwkThumbprint);
const NODE_ID = node.signer.keyId;
const body = utf8('{"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}');

const observed: Observed = {
  requestId: "req_1",
  nodeId: NODE_ID,
  model: "m",
  usage: { promptTokens: 12, completionTokens: 5 },
  digest: bodyDigest(body),
  maxPrice: { prompt: 100, completion: 300 },
  startedAt: 1_000_000,
  finishedAt: 1_002_000,
};
const receipt: Receipt = {
  request_id: "req_1",
  node_id: NODE_ID,
  model: "m",
  prompt_tokens: 12,
  completion_tokens: 5,
  price: { prompt: 100, completion: 300 },
  body_digest: bodyDigest(body),
  created: 1_001_900,
};

async function token(r: Receipt, signer = node.signer): Promise<string> {
  const bytes = receiptBytes(r);
  return encodeReceipt(bytes, await signer.sign(bytes));
}
const verify = (signature: Uint8Array, data: Uint8Array) => webCryptoVerify(node.publicKey, signature, data);

describe("checkReceipt", () => {
  it("accepts a receipt that agrees with the answer in every field", async () => {
    const check = await checkReceipt(await token(receipt), observed, verify);
    expect(check).toEqual({ status: "ok", receipt });
  });

  it("accepts a price below the advertised one (the node's word on its own price)", async () => {
    const cheaper = { ...receipt, price: { prompt: 50, completion: 300 } };
    expect((await checkReceipt(await token(cheaper), observed, verify)).status).toBe("ok");
  });

  it("says missing when there is none, invalid when it is garbage or signed by another key", async () => {
    expect((await checkReceipt(null, observed, verify)).status).toBe("missing");
    expect((await checkReceipt("not-a-receipt", observed, verify)).status).toBe("invalid");
    expect((await checkReceipt(await token(receipt, other.signer), observed, verify)).status).toBe("invalid");
  });

  it.each([
    ["request id", { request_id: "req_2" }],
    ["node id", { node_id: other.signer.keyId }],
    ["model", { model: "m2" }],
    ["token counts", { completion_tokens: 6 }],
    ["token counts", { prompt_tokens: 11 }],
    ["body digest", { body_digest: bodyDigest(utf8("something else")) }],
    ["price above the advertised one or the ceiling", { price: { prompt: 100, completion: 301 } }],
    ["time", { created: observed.startedAt - RECEIPT_CLOCK_SKEW_MS - 1 }],
    ["time", { created: observed.finishedAt + RECEIPT_CLOCK_SKEW_MS + 1 }],
  ] as const)("refuses a signed receipt whose %s disagrees", async (what, change) => {
    const check = await checkReceipt(await token({ ...receipt, ...change }), observed, verify);
    expect(check).toEqual({ status: "mismatch", reason: `the receipt's ${what} disagrees with the answer` });
  });

  it(
    "takes the receipt's own counts for an answer cut short for its client (no usage came), checking " +
      "everything else",
    async () => {
      const partial = { ...observed, usage: null };
      const cut = { ...receipt, prompt_tokens: 40, completion_tokens: 3 };
      expect(await checkReceipt(await token(cut), partial, verify)).toEqual({ status: "ok", receipt: cut });
      const elsewhere = await checkReceipt(
        await token({ ...cut, body_digest: bodyDigest(utf8("more than was relayed")) }),
        partial,
        verify,
      );
      expect(elsewhere.status).toBe("mismatch");
    },
  );
});
