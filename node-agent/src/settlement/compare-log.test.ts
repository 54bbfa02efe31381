import { describe, expect, it } from "vitest";
import { bodyDigest, utf8 } from "@meshgate/schemas";
import { generateIdentity } from "../identity/node-identity.js";
import { receiptLogEntry } from "../receipts/receipt-log-entry.js";
import { ReceiptSigner } from "../receipts/receipt-signer.js";
import { compareWithLog } from "./compare-log.js";
import { Findings } from "./findings.js";

describe("compareWithLog", () => {
  it("names a missing receipt's time as a raw number when Date cannot represent it", async () => {
    const identity = await generateIdentity();
    // Within the schemas' range (2^53), beyond Date's (8.64e15 ms), and not in the period's last minute.
    const created = Number.MAX_SAFE_INTEGER - 120_000;
    const signer = new ReceiptSigner({ identity: () => identity, prices: new Map(), now: () => created });
    const token = await signer.issue({
      requestId: "req_far",
      model: "m",
      usage: { prompt_tokens: 1, completion_tokens: 1 },
      bodyDigest: bodyDigest(utf8("answer")),
      addressee: null,
    });
    const entry = token === null ? null : receiptLogEntry(token);
    if (!entry) throw new Error("no receipt");
    const findings = new Findings();
    compareWithLog(
      { from: 0, to: Number.MAX_SAFE_INTEGER },
      identity.nodeId,
      [],
      { entries: [entry], unreadable: 0 },
      findings,
    );
    expect(findings.list).toEqual([
      { severity: "error", message: `missing receipt: request req_far (signed ${created}, 0 micro-units)` },
    ]);
  });
});

describe("compareWithLog on a short period", () => {
  it(
    "is a difference: the period's last minute, where a missing receipt is only a warning, would cover most " + "of it",
    () => {
      const findings = new Findings();
      compareWithLog({ from: 0, to: 5 * 60_000 }, "node", [], { entries: [], unreadable: 0 }, findings);
      expect(findings.list).toEqual([
        {
          severity: "error",
          message: "the period lasts 300000 ms, less than the minimum 3600000 ms: too short to check (use --all)",
        },
      ]);
      const hour = new Findings();
      compareWithLog({ from: 0, to: 3_600_000 }, "node", [], { entries: [], unreadable: 0 }, hour);
      expect(hour.list).toEqual([]);
    },
  );
});
