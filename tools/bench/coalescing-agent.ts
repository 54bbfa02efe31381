// The node agent in session mode with one knob `node-agent start` does not expose: how long an answer's body chunks
// are held to go down the session in one frame (SessionTuning.coalesceMs). For the bench's frame-coalescing
// comparison only: `node --import tsx tools/bench/coalescing-agent.ts --coalesce-ms N <node-agent start options>`
// parses the start options as the CLI does and runs the same agent, so only the frames' batching differs.
import { startAgent } from "../../node-agent/src/agent.js";
import { parseStartOptions } from "../../node-agent/src/commands/start-options.js";
import { readKeyFile, writeKeyFile } from "../../node-agent/src/identity/key-file.js";
import { generateIdentity, type NodeIdentity } from "../../node-agent/src/identity/node-identity.js";
import { stderrLogger } from "../../node-agent/src/log.js";
import { handleShutdownSignals } from "../../node-agent/src/shutdown.js";
import { modelsFromList } from "../../node-agent/src/upstream/discover-models.js";

const USAGE = "usage: coalescing-agent.ts --coalesce-ms N <node-agent start options, session mode>";

async function loadOrCreateIdentity(path: string): Promise<NodeIdentity> {
  try {
    return await readKeyFile(path);
  } catch (err) {
    if (!(err instanceof Error && "code" in err && err.code === "ENOENT")) throw err;
  }
  const identity = await generateIdentity();
  await writeKeyFile(path, identity, { force: false });
  return identity;
}

async function main(argv: string[]): Promise<void> {
  const [flag, ms, ...rest] = argv;
  if (flag !== "--coalesce-ms" || ms === undefined || !/^\d+$/.test(ms)) throw new Error(USAGE);
  const options = parseStartOptions(rest);
  if (options === "help" || options.listen !== null) throw new Error(`${USAGE} (no --listen, --public-url or --help)`);
  const log = stderrLogger();
  const shutdown = handleShutdownSignals(log);
  const agent = await startAgent({
    identity: await loadOrCreateIdentity(options.keyFile),
    reloadIdentity: () => readKeyFile(options.keyFile),
    gatewayUrl: options.gatewayUrl,
    upstreamUrl: options.upstreamUrl,
    models: options.models ? modelsFromList(options.models) : undefined,
    capacity: options.capacity,
    prices: options.prices,
    contextLengths: options.contextLengths,
    receiptLog: options.receiptLog,
    log,
    signal: shutdown.signal,
    session: { coalesceMs: Number(ms) },
  });
  shutdown.setCleanup(() => agent.stop());
  const reason = await agent.halted;
  await agent.stop();
  throw new Error(reason);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`coalescing-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
