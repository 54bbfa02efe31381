import { appendFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bodyDigest, utf8 } from "@meshgate/schemas";
import { generateIdentity } from "../identity/node-identity.js";
import { readReceiptLog } from "./read-receipt-log.js";
import { receiptLogEntry } from "./receipt-log-entry.js";
import { ReceiptLog } from "./receipt-log.js";
import { ReceiptSigner } from "./receipt-signer.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "receipt-log-"));
  dirs.push(dir);
  return join(dir, "node-key.json.receipts.jsonl");
}

const identity = await generateIdentity();
const signer = new ReceiptSigner({
  identity: () => identity,
  prices: new Map([["m", { prompt: 1_000_000, completion: 3_000_000 }]]),
  now: () => 1_000,
});
const tokens = await Promise.all(
  [1, 2, 3].map(async (n) => {
    const token = await signer.issue({
      requestId: `req_${n}`,
      model: "m",
      usage: { prompt_tokens: n, completion_tokens: 2 * n },
      bodyDigest: bodyDigest(utf8(`answer ${n}`)),
      addressee: null,
    });
    if (!token) throw new Error("no receipt");
    return token;
  }),
);
const token = (n: 1 | 2 | 3): string => tokens[n - 1] ?? "";
const entry = (n: 1 | 2 | 3) => receiptLogEntry(token(n));

describe("the receipt log", () => {
  it("appends one line per receipt to an owner-only file, kept across restarts", async () => {
    const path = await tempPath();
    const first = await ReceiptLog.open(path, () => {});
    first.append(token(1));
    first.append(token(2));
    await first.close();
    const second = await ReceiptLog.open(path, () => {});
    second.append(token(3));
    await second.close();
    expect(await readReceiptLog(path)).toEqual({ entries: [entry(1), entry(2), entry(3)], unreadable: 0 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("logs each receipt's numbers beside it: tokens and the amount owed at its price", () => {
    // 2 prompt tokens at 1,000,000 and 4 completion tokens at 3,000,000 micro-units per million: 2 + 12.
    expect(entry(2)).toEqual({
      receipt: token(2),
      request_id: "req_2",
      model: "m",
      prompt_tokens: 2,
      completion_tokens: 4,
      amount: 14,
      created: 1_000,
    });
  });

  it("reads past a line a kill cut short, and ends it before logging again", async () => {
    const path = await tempPath();
    const log = await ReceiptLog.open(path, () => {});
    log.append(token(1));
    await log.close();
    await appendFile(path, '{"receipt":"tok');
    expect(await readReceiptLog(path)).toEqual({ entries: [entry(1)], unreadable: 1 });
    const restarted = await ReceiptLog.open(path, () => {});
    restarted.append(token(2));
    await restarted.close();
    expect(await readReceiptLog(path)).toEqual({ entries: [entry(1), entry(2)], unreadable: 1 });
  });

  it("fails to start rather than lose receipts when the file cannot be opened", async () => {
    const path = join(await tempPath(), "missing-dir", "log.jsonl");
    await expect(ReceiptLog.open(path, () => {})).rejects.toThrow(/ENOENT/);
  });
});
