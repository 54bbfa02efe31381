// `node-agent start`: runs the agent until SIGINT/SIGTERM.
import { startAgent } from "../agent.js";
import { keyFileIsExposed, readKeyFile, writeKeyFile } from "../identity/key-file.js";
import { generateIdentity, type NodeIdentity } from "../identity/node-identity.js";
import { stderrLogger, type Logger } from "../log.js";
import { handleShutdownSignals } from "../shutdown.js";
import { modelsFromList } from "../upstream/discover-models.js";
import { START_HELP } from "./help.js";
import type { SessionTuning } from "../session/node-session.js";
import { parseStartOptions, type StartOptions } from "./start-options.js";

async function loadOrCreateIdentity(path: string, log: Logger): Promise<NodeIdentity> {
  try {
    const identity = await readKeyFile(path);
    if (await keyFileIsExposed(path))
      log("warning: key file is readable by other users; run chmod 600", { key_file: path });
    return identity;
  } catch (err) {
    if (!(err instanceof Error && "code" in err && err.code === "ENOENT")) throw err;
  }
  const identity = await generateIdentity();
  await writeKeyFile(path, identity, { force: false });
  log("created a new node key", { key_file: path, node: identity.nodeId });
  return identity;
}

export async function startCommand(args: string[]): Promise<void> {
  const options = parseStartOptions(args);
  if (options === "help") return void process.stdout.write(START_HELP);
  await runAgent(options);
}

/**
 * Runs the agent the options describe until it is signalled to stop, or halts because another agent took its node
 * over (then it throws why). `tuning` sets what the CLI does not expose (the bench's frame coalescing).
 */
export async function runAgent(options: StartOptions, tuning: SessionTuning = {}): Promise<void> {
  const log = stderrLogger();
  const shutdown = handleShutdownSignals(log);
  const identity = await loadOrCreateIdentity(options.keyFile, log);
  log("node identity", { node: identity.nodeId, key_file: options.keyFile });
  const { listen } = options;
  if (listen && !listen.publicUrl && (listen.host === "0.0.0.0" || listen.host === "::")) {
    log("warning: listening on all interfaces without --public-url; the gateway cannot reach a wildcard address");
  }
  const common = {
    identity,
    reloadIdentity: () => readKeyFile(options.keyFile),
    gatewayUrl: options.gatewayUrl,
    upstreamUrl: options.upstreamUrl,
    models: options.models ? modelsFromList(options.models) : undefined,
    capacity: options.capacity,
    prices: options.prices,
    contextLengths: options.contextLengths,
    receiptLog: options.receiptLog,
    responsesApi: options.responsesApi,
    log,
    signal: shutdown.signal,
  };
  const agent = await startAgent(
    listen
      ? {
          ...common,
          listenHost: listen.host,
          listenPort: listen.port,
          publicUrl: listen.publicUrl,
          sessionTuning: tuning,
        }
      : { ...common, session: tuning },
  );
  shutdown.setCleanup(() => agent.stop());
  // Another agent took this node over: stop (receipts flushed) and exit non-zero, saying why.
  const reason = await agent.halted;
  await agent.stop();
  throw new Error(reason);
}
