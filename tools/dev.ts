// `npm run dev`: the gateway under `wrangler dev` (live reload, but it traces every subrequest for DevTools, so it is
// slower than `npm start`), otherwise like npm start: a demo node, a ready API key, a banner saying how to use them,
// and the health probes fired on a timer. Its state is its own (.meshgate/dev-state). Ctrl-C, SIGTERM or SIGHUP stops
// everything, and so does npm going away (tools/processes owns the signals).
import { join } from "node:path";
import { fireCronsEvery, startWranglerDev } from "./dev/wrangler-dev.js";
import { DEV_HELP, parseDevOptions } from "./dev/options.js";
import { LOCAL_CRON_INTERVAL_MS } from "./gateway/local-cron.js";
import { WRANGLER_TOML } from "./gateway/paths.js";
import { PortInUseError } from "./gateway/port.js";
import { makeScratchDir, removeScratchDir, removeScratchDirSync } from "./gateway/scratch.js";
import { readGatewayConfig } from "./gateway/wrangler-config.js";
import { type ManagedProcess, onExit, onShutdown, prefixedSink, shutdown } from "./processes/index.js";
import { banner } from "./start/banner.js";
import { startDemoNode } from "./start/demo.js";
import { ensureLocalApiKey } from "./start/local-api-key.js";
import { prepareLocalRun } from "./start/local-run.js";

const say = prefixedSink("dev");

/** wrangler dev ending by itself (a crash, say) takes the demo node and the timers down with it. */
function stopAllWhenItExits(wrangler: ManagedProcess): void {
  let stopping = false;
  // Registered after wrangler's own stop, so it runs before it (newest first): from then on its exit is expected.
  onShutdown(() => {
    stopping = true;
  });
  void wrangler.exited.then(() => {
    if (stopping) return;
    say("wrangler dev exited; stopping the rest");
    void shutdown().finally(() => process.exit(1));
  });
}

async function main(): Promise<void> {
  const options = parseDevOptions(process.argv.slice(2));
  if (options === "help") return void process.stdout.write(DEV_HELP);
  const vars = await prepareLocalRun(options, say);
  // Wrangler's Miniflare keeps scratch files in TMPDIR and does not always remove them (see gateway/scratch.ts).
  const scratch = makeScratchDir("dev");
  onExit(() => removeScratchDirSync(scratch));
  onShutdown(() => removeScratchDir(scratch));
  const wrangler = await startWranglerDev({
    host: options.host,
    port: options.port,
    stateDir: options.stateDir,
    scratchDir: scratch,
    extraArgs: options.wranglerArgs,
    sink: prefixedSink("wrangler"),
  });
  stopAllWhenItExits(wrangler.process);
  onShutdown(fireCronsEvery(wrangler.url, readGatewayConfig(WRANGLER_TOML).crons, LOCAL_CRON_INTERVAL_MS, say));
  const demo = options.demo ? await startDemoNode(wrangler.url, options.stateDir, say) : null;
  const apiKeyFile = join(options.stateDir, "api-key.json");
  const apiKey = await ensureLocalApiKey(apiKeyFile, wrangler.url, vars.ADMIN_TOKEN, "local development (npm run dev)");
  say(`${apiKey.reused ? "reusing" : "created"} local API key ${apiKey.id}`);
  process.stdout.write(
    banner({
      title: "Meshgate is running under wrangler dev (local development, live reload).",
      gatewayUrl: wrangler.url,
      adminToken: vars.ADMIN_TOKEN,
      apiKey: apiKey.key,
      apiKeyFile,
      pids: [["wrangler pid", wrangler.process.pid]],
      stateDir: options.stateDir,
      stateNote: "npm run dev's own: npm start's keys and nodes (in .meshgate/state) are not here",
      demo,
    }),
  );
  onShutdown(() => say("stopping (press Ctrl-C again to kill at once)"));
}

main().catch(async (err: unknown) => {
  const why = err instanceof PortInUseError ? err.advice("npm run dev") : `npm run dev failed: ${errorText(err)}`;
  process.stderr.write(`${why}\n`);
  await shutdown();
  process.exit(1);
});

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
