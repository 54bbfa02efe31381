// What a settlement check found: errors make it not match; warnings and notes are reported but do not.
export type Severity = "error" | "warning" | "info";

export interface Finding {
  severity: Severity;
  message: string;
}

export class Findings {
  readonly list: Finding[] = [];

  error(message: string): void {
    this.list.push({ severity: "error", message });
  }

  warning(message: string): void {
    this.list.push({ severity: "warning", message });
  }

  info(message: string): void {
    this.list.push({ severity: "info", message });
  }

  get errors(): number {
    return this.list.filter((f) => f.severity === "error").length;
  }
}

/** "3 receipts", "1 receipt". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** A time (ms since the epoch) as ISO 8601; the raw number when Date cannot represent it (schemas allow up to 2^53). */
export function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** A few request ids, for a message about many. */
export function sample(ids: readonly string[], max = 5): string {
  return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}
