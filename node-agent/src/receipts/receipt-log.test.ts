import { appendFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readReceiptLog } from "./read-receipt-log.js";
import type { ReceiptLogEntry } from "./receipt-log-entry.js";
import { ReceiptLog } from "./receipt-log.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "receipt-log-"));
  dirs.push(dir);
  return join(dir, "node-key.json.receipts.jsonl");
}

const entry = (n: number): ReceiptLogEntry => ({ receipt: `token${n}`, request_id: `req_${n}`, model: "m", prompt_tokens: n, completion_tokens: 2 * n, amount: 3 * n, created: 1_000 + n });

describe("the receipt log", () => {
  it("appends one line per receipt to an owner-only file, kept across restarts", async () => {
    const path = await tempPath();
    const first = await ReceiptLog.open(path, () => {});
    first.append(entry(1));
    first.append(entry(2));
    await first.close();
    const second = await ReceiptLog.open(path, () => {});
    second.append(entry(3));
    await second.close();
    expect(await readReceiptLog(path)).toEqual({ entries: [entry(1), entry(2), entry(3)], unreadable: 0 });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it("reads past a line a kill cut short", async () => {
    const path = await tempPath();
    const log = await ReceiptLog.open(path, () => {});
    log.append(entry(1));
    await log.close();
    await appendFile(path, '{"receipt":"tok');
    expect(await readReceiptLog(path)).toEqual({ entries: [entry(1)], unreadable: 1 });
  });

  it("fails to start rather than lose receipts when the file cannot be opened", async () => {
    const path = join(await tempPath(), "missing-dir", "log.jsonl");
    await expect(ReceiptLog.open(path, () => {})).rejects.toThrow(/ENOENT/);
  });
});
