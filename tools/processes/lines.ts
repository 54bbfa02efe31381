// Line-buffered, prefixed output: several processes write to one terminal, so each line is written whole and says
// whose it is.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** Calls `each` for every complete line of `stream` (and a final unterminated one). */
export function onLines(stream: Readable, each: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", each);
}

const COLOURS = [36, 35, 33, 32, 34, 91, 96, 95];
let nextColour = 0;

export type LineSink = (line: string, stream?: "stdout" | "stderr") => void;

/** A sink that writes `[name] line` to this process's own stdout/stderr, coloured per name when on a terminal. */
export function prefixedSink(name: string): LineSink {
  const colour = COLOURS[nextColour++ % COLOURS.length] ?? 36;
  const tag = process.stdout.isTTY ? `\x1b[${colour}m[${name}]\x1b[0m` : `[${name}]`;
  return (line, stream) => (stream === "stderr" ? process.stderr : process.stdout).write(`${tag} ${line}\n`);
}
