// What the heartbeat benches' standalone entries share: option parsing helpers and a run that always cleans up.
import { installShutdownHandlers, shutdown } from "../../processes/index.js";

export function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * Parses options (a thrown error prints it with `help`, exit 2), runs the phase, prints its table, always stops
 * workerd.
 */
export async function runStandalone<O, R>(
  help: string,
  parse: () => O,
  phase: (opts: O, progress: (line: string) => void) => Promise<R>,
  format: (result: R) => string,
): Promise<void> {
  let opts: O;
  try {
    opts = parse();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${help}`);
    process.exitCode = 2;
    return;
  }
  // Ctrl-C goes through tools/processes, which disposes Miniflare (and so workerd) before exiting.
  installShutdownHandlers();
  try {
    const result = await phase(opts, (line) => void process.stderr.write(`bench: ${line}\n`));
    process.stdout.write(format(result));
  } catch (err) {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await shutdown();
  }
  process.exit();
}
