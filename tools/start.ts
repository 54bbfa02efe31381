// `npm start`: the whole local stack in one command. The gateway under workerd with state on disk; by default a
// simulated backend and one real node agent in front of it; a ready API key; then instructions to try it.
// Ctrl-C, SIGTERM or SIGHUP stops everything, and so does npm going away (tools/processes owns the signals).
import { join } from "node:path";
import { startGateway } from "./gateway/gateway.js";
import { LOCAL_CRON_INTERVAL_MS } from "./gateway/local-cron.js";
import { PortInUseError } from "./gateway/port.js";
import { onShutdown, prefixedSink, shutdown } from "./processes/index.js";
import { banner } from "./start/banner.js";
import { startDemoNode } from "./start/demo.js";
import { ensureLocalApiKey } from "./start/local-api-key.js";
import { prepareLocalRun } from "./start/local-run.js";
import { parseStartOptions, START_HELP } from "./start/options.js";

const say = prefixedSink("start");

async function main(): Promise<void> {
  const options = parseStartOptions(process.argv.slice(2));
  if (options === "help") return void process.stdout.write(START_HELP);
  const started = performance.now();
  // startGateway checks the port again, for a race.
  const vars = await prepareLocalRun(options, say);

  const gateway = await startGateway({
    host: options.host,
    port: options.port,
    persistDir: join(options.stateDir, "durable-objects"),
    vars,
    // The local-development switch, always: the demo node and operators' test nodes live on this machine or LAN.
    allowPrivateNodeUrls: true,
    probeIntervalMs: LOCAL_CRON_INTERVAL_MS,
    isolates: options.isolates,
  });
  const served = options.isolates > 1 ? ` from ${options.isolates} isolates` : "";
  say(`gateway ready on ${gateway.url}${served} after ${Math.round(performance.now() - started)} ms`);
  const demo = options.demo ? await startDemoNode(gateway.url, options.stateDir, say) : null;
  const apiKeyFile = join(options.stateDir, "api-key.json");
  const apiKey = await ensureLocalApiKey(apiKeyFile, gateway.url, vars.ADMIN_TOKEN);
  say(
    `${apiKey.reused ? "reusing" : "created"} local API key ${apiKey.id}; everything up after ${Math.round(performance.now() - started)} ms`,
  );
  process.stdout.write(
    banner({
      title: "Meshgate is running (local development).",
      gatewayUrl: gateway.url,
      adminToken: vars.ADMIN_TOKEN,
      apiKey: apiKey.key,
      apiKeyFile,
      pids: [["workerd pid", gateway.pid]],
      stateDir: options.stateDir,
      demo,
    }),
  );
  onShutdown(() => say("stopping (press Ctrl-C again to kill at once)"));
}

main().catch(async (err: unknown) => {
  // A port in use is common (a second start, or another server) and needs no stack trace: one line says what to do.
  const why = err instanceof PortInUseError ? err.advice("npm start") : `npm start failed: ${errorText(err)}`;
  process.stderr.write(`${why}\n`);
  await shutdown();
  process.exit(1);
});

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
