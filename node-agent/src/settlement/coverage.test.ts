import { beforeAll, describe, expect, it } from "vitest";
import { bodyDigest, decodeReceipt, utf8 } from "@meshgate/schemas";
import { generateIdentity, type NodeIdentity } from "../identity/node-identity.js";
import type { ReceiptLogEntry } from "../receipts/receipt-log-entry.js";
import { receiptLogEntry } from "../receipts/receipt-log-entry.js";
import { ReceiptSigner } from "../receipts/receipt-signer.js";
import { checkCoverage, logStart, type StatementReceipts } from "./coverage.js";
import { Findings } from "./findings.js";
import type { SettledReceipt } from "./node-leaves.js";

const HOUR = 3_600_000;
const T = 1_700_000_000_000;

let identity: NodeIdentity;
let other: NodeIdentity;

beforeAll(async () => {
  identity = await generateIdentity();
  other = await generateIdentity();
});

/**
 * A logged receipt of `who` for `requestId`, signed at `created` (and a body, so two answers to one request differ).
 */
async function logged(requestId: string, created: number, who = identity, body = "answer"): Promise<ReceiptLogEntry> {
  const signer = new ReceiptSigner({
    identity: () => who,
    prices: new Map([["m", { prompt: 1_000_000, completion: 1_000_000 }]]),
    now: () => created,
  });
  const token = await signer.issue({
    requestId,
    model: "m",
    usage: { prompt_tokens: 3, completion_tokens: 4 },
    bodyDigest: bodyDigest(utf8(body)),
    addressee: null,
  });
  const entry = token === null ? null : receiptLogEntry(token);
  if (!entry) throw new Error("no receipt");
  return entry;
}

function settledOf(entry: ReceiptLogEntry): SettledReceipt {
  const signed = decodeReceipt(entry.receipt);
  if (!signed) throw new Error("not a receipt");
  return { requestId: signed.receipt.request_id, created: signed.receipt.created, bytes: signed.bytes };
}

const statement = (id: string, to: number, entries: readonly ReceiptLogEntry[]): StatementReceipts => ({
  id,
  to,
  settled: entries.map(settledOf),
});

function check(entries: readonly ReceiptLogEntry[], statements: readonly StatementReceipts[], since = 0): Findings {
  const findings = new Findings();
  checkCoverage(
    { nodeId: identity.nodeId, since, statements, log: { entries: [...entries], unreadable: 0 } },
    findings,
  );
  return findings;
}

describe("checkCoverage", () => {
  it("finds nothing when every logged receipt is in some statement, carried or not", async () => {
    const [a, b, c] = [await logged("a", T + 1), await logged("b", T + HOUR - 10), await logged("c", T + HOUR + 5)];
    // b was signed in the first period's last seconds and paid by the second.
    expect(check([a, b, c], [statement("s1", T + HOUR, [a]), statement("s2", T + 2 * HOUR, [b, c])]).list).toEqual([]);
  });

  it("names a receipt in no statement, wherever it was signed: in a period or in a gap between periods", async () => {
    const [a, gap, b] = [
      await logged("a", T + 1),
      await logged("in_gap", T + HOUR + 1),
      await logged("b", T + 2 * HOUR + 1),
    ];
    const findings = check([a, gap, b], [statement("s1", T + HOUR, [a]), statement("s2", T + 3 * HOUR, [b])]);
    expect(findings.list).toEqual([
      {
        severity: "error",
        message: `missing receipt: request in_gap (signed ${new Date(T + HOUR + 1).toISOString()}, 7 micro-units) is in no settlement`,
      },
    ]);
  });

  it("only warns about the newest statement's last minute, and notes what was signed after it", async () => {
    const [edge, after] = [await logged("edge", T + HOUR - 30_000), await logged("after", T + HOUR)];
    const findings = check([edge, after], [statement("s1", T + HOUR, [])]);
    expect(findings.errors).toBe(0);
    expect(findings.list).toEqual([
      {
        severity: "warning",
        message:
          "1 receipt signed in the newest settlement's last minute not in it (may be carried over into the next " +
          "settlement): edge",
      },
      { severity: "info", message: "1 receipt signed after the newest settlement ended: not settled yet: after" },
    ]);
    // A last minute that is not the newest one's excuses nothing: a later close would have swept it in.
    expect(check([edge], [statement("s1", T + HOUR, []), statement("s2", T + 2 * HOUR, [])]).errors).toBe(1);
  });

  it("reports a receipt settled in two statements", async () => {
    const a = await logged("a", T + 1);
    const findings = check([a], [statement("s1", T + HOUR, [a]), statement("s2", T + 2 * HOUR, [a])]);
    expect(findings.list).toEqual([{ severity: "error", message: "request a is settled in 2 statements: s1, s2" }]);
  });

  it("reports a settled receipt for a logged request that is not the one the node signed", async () => {
    const [mine, theirs] = [await logged("a", T + 1), await logged("a", T + 2, identity, "another answer")];
    expect(check([mine], [statement("s1", T + HOUR, [theirs])]).list).toContainEqual({
      severity: "error",
      message: "the settled receipt for request a is not the one this node signed",
    });
  });

  it("accepts either receipt of a request the node answered twice", async () => {
    const [first, second] = [
      await logged("twice", T + 1, identity, "first"),
      await logged("twice", T + 2, identity, "second"),
    ];
    expect(check([first, second], [statement("s1", T + HOUR, [second])]).list).toEqual([]);
  });

  it("checks only receipts signed at or after `since`, and says when there is no statement at all", async () => {
    const [old, recent] = [await logged("old", T - HOUR), await logged("recent", T + 1)];
    expect(check([old, recent], [statement("s1", T + HOUR, [recent])], T).list).toEqual([]);
    expect(check([old, recent], [statement("s1", T + HOUR, [recent])], 0).errors).toBe(1);
    expect(check([recent], []).list).toEqual([
      { severity: "info", message: "1 receipt signed after the newest settlement ended: not settled yet: recent" },
    ]);
  });

  it("warns about settled receipts the log lacks, and ignores other nodes' lines", async () => {
    const [a, unlogged, foreign] = [
      await logged("a", T + 1),
      await logged("gone", T + 2),
      await logged("x", T + 3, other),
    ];
    const findings = check([a, foreign], [statement("s1", T + HOUR, [a, unlogged])]);
    expect(findings.errors).toBe(0);
    expect(findings.list.map((f) => f.message)).toEqual([
      "1 receipt in the settlements not in the local log (was the log rotated?): gone",
      "1 receipt in the log belong to another node or are malformed; ignored",
    ]);
  });
});

describe("logStart", () => {
  it("is this node's first logged receipt, or 0 without one", async () => {
    const entries = [await logged("b", T + 5), await logged("a", T + 2), await logged("x", T - 9, other)];
    expect(logStart(identity.nodeId, { entries, unreadable: 0 })).toBe(T + 2);
    expect(logStart(identity.nodeId, { entries: [], unreadable: 3 })).toBe(0);
  });
});
