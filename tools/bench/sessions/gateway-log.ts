// workerd's own log under ten thousand sessions: the same error can come thousands of times, each with a stack line.
// Each kind of line is shown once and then counted, so the run's output stays readable and the counts go in the result.

/** A line with its ids, addresses and numbers blanked, so repeats of one error share a kind. */
export function logKind(line: string): string {
  return line
    .replace(/\b[0-9a-f]{16,}\b/g, "<id>")
    .replace(/\b[a-z0-9]{24}\b/g, "<id>")
    .replace(/\d+(\.\d+)?/g, "N")
    .slice(0, 200);
}

export class LogTally {
  readonly counts: Record<string, number> = {};

  /** `show` gets the first line of each kind. */
  constructor(private readonly show: (line: string) => void) {}

  readonly sink = (line: string): void => {
    // A stack trace's addresses say nothing once the error's kind is known.
    if (line.trimStart().startsWith("stack:")) return;
    const kind = logKind(line);
    const seen = this.counts[kind] ?? 0;
    if (seen === 0) this.show(`${line.slice(0, 400)} (repeats are counted)`);
    this.counts[kind] = seen + 1;
  };
}
