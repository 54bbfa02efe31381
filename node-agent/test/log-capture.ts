// A Logger that keeps lines for assertions, and lets a test wait for a line to appear.
import { formatLine, type Logger } from "../src/log.js";

export interface LogCapture {
  log: Logger;
  lines: string[];
  waitFor(pattern: RegExp): Promise<string>;
}

export function captureLog(): LogCapture {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const log: Logger = (event, fields) => {
    const line = formatLine(event, fields);
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  };
  return {
    log,
    lines,
    waitFor: (pattern) => {
      const existing = lines.find((line) => pattern.test(line));
      return existing !== undefined
        ? Promise.resolve(existing)
        : new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}
