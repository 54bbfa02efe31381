// The node's own record of every receipt it signed: JSON lines appended to a local file, so `verify-settlement` can
// tell what the gateway owes. Each line goes to the file as soon as it is signed (a kill loses at most the write in
// progress); writes are queued by the stream, never awaited on the response path.
import type { WriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { errorMessage, type Logger } from "../log.js";
import type { ReceiptLogEntry } from "./receipt-log-entry.js";

/** The default log sits next to the key file it belongs to. */
export function receiptLogPathFor(keyFile: string): string {
  return `${keyFile}.receipts.jsonl`;
}

export class ReceiptLog {
  private failed = false;
  private closed = false;

  private constructor(readonly path: string, private readonly stream: WriteStream, log: Logger) {
    stream.on("error", (err) => {
      if (!this.failed) log("receipt log write failed; receipts are no longer logged", { receipt_log: path, error: errorMessage(err) });
      this.failed = true;
    });
  }

  /** Opens (creating, owner-only) for appending; fails now rather than on the first receipt. */
  static async open(path: string, log: Logger): Promise<ReceiptLog> {
    const handle = await open(path, "a", 0o600);
    return new ReceiptLog(path, handle.createWriteStream(), log);
  }

  append(entry: ReceiptLogEntry): void {
    if (this.failed || this.closed) return;
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
