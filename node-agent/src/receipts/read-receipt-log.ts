// Reads the receipt log back (for `verify-settlement`). A line cut short by a kill or crash is skipped and counted.
import { readFile } from "node:fs/promises";
import { ReceiptLogEntrySchema, type ReceiptLogEntry } from "./receipt-log-entry.js";

export interface ReceiptLogContents {
  entries: ReceiptLogEntry[];
  /** Lines that are not a log entry (e.g. the last one, half-written when the agent was killed). */
  unreadable: number;
}

export async function readReceiptLog(path: string): Promise<ReceiptLogContents> {
  const entries: ReceiptLogEntry[] = [];
  let unreadable = 0;
  for (const line of (await readFile(path, "utf8")).split("\n")) {
    if (line.trim() === "") continue;
    let parsed: ReturnType<typeof ReceiptLogEntrySchema.safeParse> | null;
    try {
      parsed = ReceiptLogEntrySchema.safeParse(JSON.parse(line));
    } catch {
      parsed = null;
    }
    if (parsed?.success) entries.push(parsed.data);
    else unreadable += 1;
  }
  return { entries, unreadable };
}
