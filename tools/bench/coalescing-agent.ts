// The node agent in session mode with one knob `node-agent start` does not expose: how long an answer's body chunks
// are held to go down the session in one frame (SessionTuning.coalesceMs). For the bench's frame-coalescing
// comparison only: `node --import tsx tools/bench/coalescing-agent.ts --coalesce-ms N <node-agent start options>`
// parses the start options as the CLI does and runs the same agent, so only the frames' batching differs.
import { runAgent } from "../../node-agent/src/commands/start.js";
import { parseStartOptions } from "../../node-agent/src/commands/start-options.js";

const USAGE = "usage: coalescing-agent.ts --coalesce-ms N <node-agent start options, session mode>";

async function main(argv: string[]): Promise<void> {
  const [flag, ms, ...rest] = argv;
  if (flag !== "--coalesce-ms" || ms === undefined || !/^\d+$/.test(ms)) throw new Error(USAGE);
  const options = parseStartOptions(rest);
  if (options === "help" || options.listen !== null) throw new Error(`${USAGE} (no --listen, --public-url or --help)`);
  await runAgent(options, { coalesceMs: Number(ms) });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`coalescing-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
