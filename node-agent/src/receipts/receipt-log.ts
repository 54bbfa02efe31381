// The node's own record of every receipt it delivered: JSON lines appended to a local file, so `verify-settlement`
// can tell what the gateway owes. Each line is queued as soon as its answer went out; writes are never awaited on the
// response path, so a kill loses the lines still queued (those receipts then show as "not in the local log", a
// warning: the gateway's copy is signed by this node all the same).
import type { WriteStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { errorMessage, type Logger } from "../log.js";
import { receiptLogEntry } from "./receipt-log-entry.js";

/** The default log sits next to the key file it belongs to. */
export function receiptLogPathFor(keyFile: string): string {
  return `${keyFile}.receipts.jsonl`;
}

export class ReceiptLog {
  private failed = false;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly stream: WriteStream,
    log: Logger,
  ) {
    stream.on("error", (err) => {
      if (!this.failed)
        log("receipt log write failed; receipts are no longer logged", { receipt_log: path, error: errorMessage(err) });
      this.failed = true;
    });
  }

  /** Opens (creating, owner-only) for appending; fails now rather than on the first receipt. */
  static async open(path: string, log: Logger): Promise<ReceiptLog> {
    const handle = await open(path, "a+", 0o600);
    // A kill mid-write leaves a torn last line: end it, so the first line written now is whole and readable.
    if (!(await endsWithNewline(handle))) await handle.appendFile("\n");
    return new ReceiptLog(path, handle.createWriteStream(), log);
  }

  /** Logs a delivered receipt (wire form). */
  append(receipt: string): void {
    const entry = receiptLogEntry(receipt);
    if (this.failed || this.closed || !entry) return;
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  /** Writes out what is queued and closes the file. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      if (this.failed) return resolve();
      this.stream.once("error", () => resolve());
      this.stream.end(() => resolve());
    });
  }
}

async function endsWithNewline(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] === 0x0a;
}
