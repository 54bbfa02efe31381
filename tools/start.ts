// `npm start`: the whole local stack in one command. The gateway under workerd with state on disk; by default a
// simulated backend and one real node agent in front of it; a ready API key; then instructions to try it.
// Ctrl-C stops everything (tools/processes owns the signals).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ensureDevVars } from "./gateway/dev-vars.js";
import { startGateway } from "./gateway/gateway.js";
import { waitForNode } from "./gateway/nodes.js";
import { DEV_VARS, MESHGATE_DIR } from "./gateway/paths.js";
import { onShutdown, prefixedSink, shutdown, startNodeAgent } from "./processes/index.js";
import { DEFAULT_SIM_MODELS, startSimBackend } from "@meshgate/sim-backend";
import { banner, type BannerFacts } from "./start/banner.js";
import { ensureLocalApiKey } from "./start/local-api-key.js";
import { parseStartOptions, START_HELP } from "./start/options.js";

const STATE_DIR = join(MESHGATE_DIR, "state");
const HEALTH_PROBE_INTERVAL_MS = 10_000;
const say = prefixedSink("start");

async function startDemoNode(gatewayUrl: string): Promise<NonNullable<BannerFacts["demo"]>> {
  const backend = await startSimBackend({ models: DEFAULT_SIM_MODELS, log: prefixedSink("sim-backend") });
  onShutdown(() => backend.close());
  const agent = await startNodeAgent({
    name: "node-agent",
    gatewayUrl,
    upstreamUrl: backend.url,
    keyFile: join(STATE_DIR, "node-agent.key"),
    // A price, so the demo's usage shows costs and receipts (micro-units per million prompt/completion tokens).
    prices: { "sim-small": { prompt: 100_000, completion: 300_000 }, "sim-embed": { prompt: 20_000, completion: 0 } },
  });
  say(`node agent listening on ${agent.url}; waiting for it to register`);
  await waitForNode(gatewayUrl, agent.nodeId);
  return { nodeId: agent.nodeId, backendUrl: backend.url, models: DEFAULT_SIM_MODELS };
}

async function main(): Promise<void> {
  const options = parseStartOptions(process.argv.slice(2));
  if (options === "help") return void process.stdout.write(START_HELP);
  const started = performance.now();
  // Cleanups run newest first: this one runs last, after every process has stopped.
  onShutdown(() => say("stopped"));
  mkdirSync(STATE_DIR, { recursive: true });
  const { vars, created } = ensureDevVars(DEV_VARS);
  if (created)
    say(`generated ${DEV_VARS} with a random ADMIN_TOKEN and GATEWAY_SIGNING_KEY (git-ignored; keep it private)`);

  const gateway = await startGateway({
    host: options.host,
    port: options.port,
    persistDir: join(STATE_DIR, "durable-objects"),
    vars,
    // The local-development switch, always: the demo node and operators' test nodes live on this machine or LAN.
    allowPrivateNodeUrls: true,
    // Production's Cron Trigger probes nodes every minute; locally, more often, so a stopped node shows up soon.
    probeIntervalMs: HEALTH_PROBE_INTERVAL_MS,
  });
  say(`gateway ready on ${gateway.url} after ${Math.round(performance.now() - started)} ms`);
  const demo = options.demo ? await startDemoNode(gateway.url) : null;
  const apiKeyFile = join(STATE_DIR, "api-key.json");
  const apiKey = await ensureLocalApiKey(apiKeyFile, gateway.url, vars.ADMIN_TOKEN);
  say(
    `${apiKey.reused ? "reusing" : "created"} local API key ${apiKey.id}; everything up after ${Math.round(performance.now() - started)} ms`,
  );
  process.stdout.write(
    banner({
      gatewayUrl: gateway.url,
      adminToken: vars.ADMIN_TOKEN,
      apiKey: apiKey.key,
      apiKeyFile,
      workerdPid: gateway.pid,
      stateDir: STATE_DIR,
      demo,
    }),
  );
  onShutdown(() => say("stopping (press Ctrl-C again to kill at once)"));
}

main().catch(async (err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown();
  process.exit(1);
});
