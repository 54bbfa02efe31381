// Serves the Worker locally under workerd through Miniflare's API. Not `wrangler dev`: that traces every subrequest
// for DevTools, which costs milliseconds of CPU per request; Miniflare alone adds well under one.
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Log, LogLevel, Miniflare, type MiniflareOptions, type WorkerOptions } from "miniflare";
import {
  installShutdownHandlers,
  onExit,
  onLines,
  onShutdown,
  prefixedSink,
  type LineSink,
} from "../processes/index.js";
import { buildWorker, type WorkerBundle } from "./build.js";
import { readDevVars } from "./dev-vars.js";
import { DEV_VARS, MESHGATE_DIR, WRANGLER_TOML } from "./paths.js";
import { ENTRY_SCRIPT, isolateDurableObjects, isolateName, isolateServiceBindings } from "./isolates.js";
import { ensurePortFree } from "./port.js";
import { makeScratchDir, removeScratchDir, removeScratchDirSync, withTmpDir } from "./scratch.js";
import { type AssetsConfig, type GatewayConfig, readGatewayConfig } from "./wrangler-config.js";
import { repeatEvery } from "./local-cron.js";
import { findListeningChild } from "./workerd-pid.js";

export interface GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (the real one is in `url`). */
  port?: number;
  /** Keep Durable Object state in this directory across restarts; in memory when absent. */
  persistDir?: string;
  /** Secrets and vars for the Worker (over wrangler.toml's [vars]); read from .dev.vars when absent. */
  vars?: Record<string, string>;
  /** Default: the repository's wrangler.toml. */
  configPath?: string;
  /** Opens workerd's V8 inspector on this port (DevTools, CPU profiles); see MESHGATE_INSPECTOR_PORT in tools/bench. */
  inspectorPort?: number;
  /** Where the Worker's console output (and request lines) go; default: this process's output, prefixed [gateway]. */
  sink?: LineSink;
  /**
   * The local-development switch (ALLOW_PRIVATE_NODE_URLS): nodes may register loopback and private URLs, as every
   * node on this machine does. On by default while the gateway listens on loopback only (anyone else on the network
   * could otherwise point it at the LAN); tests of the production refusal turn it off.
   */
  allowPrivateNodeUrls?: boolean;
  /**
   * Runs the Worker's Cron Triggers (wrangler.toml `[triggers] crons`) every this many milliseconds, since Miniflare
   * does not fire them by itself; one run at a time, the next counted from the end of the last. Default 0: never (tests
   * call runScheduled() when they mean to).
   */
  probeIntervalMs?: number;
  /**
   * Serve from this many isolates (tools/gateway/isolates.ts): copies of the Worker sharing one set of Durable
   * Objects behind a round-robin entry, as production's many isolates share them. Default 1: the Worker alone.
   */
  isolates?: number;
}

export interface Gateway {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8787. */
  url: string;
  port: number;
  /** The workerd process (for CPU accounting via /proc/<pid>/stat); undefined where it cannot be determined. */
  pid: number | undefined;
  /** Runs the Worker's scheduled() handler once for each configured cron; rejects unless every run succeeded. */
  runScheduled(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The new-identity limits (wrangler.toml) assume one address per operator; locally every agent, test node and bench
 * node registers from one address (workerd sees no CF-Connecting-IP) and test nodes share a responder's origin. A
 * local-development gateway (private node URLs allowed) raises them unless the caller's vars set them (as the tests
 * of the limits do).
 */
export const LOCAL_IDENTITY_LIMITS: Readonly<Record<string, string>> = {
  REGISTRATION_RATE_LIMIT: "1000000/100000",
  IDENTITIES_PER_ORIGIN: "100000",
};

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** A Miniflare Log that writes through our sink instead of straight to the console. */
class SinkLog extends Log {
  constructor(
    private readonly sink: LineSink,
    level: LogLevel,
  ) {
    super(level);
  }
  protected override log(message: string): void {
    for (const line of message.split("\n")) this.sink(line, "stdout");
  }
}

/**
 * Miniflare installs SIGINT/SIGTERM handlers that exit at once, which would cut short the graceful shutdown of the
 * processes beside the gateway. Signals belong to tools/processes; Miniflare's own exit hook stays, so workerd still
 * dies with us if nothing else runs.
 */
function withoutMiniflareSignalHandlers<T>(create: () => T): T {
  const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
  const created = create();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    for (const listener of process.listeners(signal)) {
      if (!before[signal].includes(listener)) process.removeListener(signal, listener);
    }
  }
  return created;
}

function miniflareOptions(
  opts: GatewayOptions,
  config: GatewayConfig,
  bundle: WorkerBundle,
  sink: LineSink,
): MiniflareOptions {
  const isolates = opts.isolates ?? 1;
  const shared = sharedOptions(opts, sink);
  const socket = { host: opts.host ?? "127.0.0.1", port: opts.port ?? 0 };
  if (isolates <= 1) return { ...shared, ...workerOptions(opts, config, bundle), unsafeDirectSockets: [socket] };
  const copies: WorkerOptions[] = Array.from({ length: isolates }, (_, index) => ({
    ...workerOptions(opts, config, bundle),
    name: isolateName(index),
    durableObjects: isolateDurableObjects(config.durableObjects, index),
  }));
  const entry: WorkerOptions = {
    name: "entry",
    modules: true,
    script: ENTRY_SCRIPT,
    compatibilityDate: config.compatibilityDate,
    bindings: { COUNT: String(isolates) },
    serviceBindings: isolateServiceBindings(isolates),
    unsafeDirectSockets: [socket],
  };
  return { ...shared, workers: [entry, ...copies] };
}

/** Options of the workerd process as a whole. */
function sharedOptions(opts: GatewayOptions, sink: LineSink): Partial<MiniflareOptions> {
  return {
    // Miniflare's own entry point (it adds request.cf and error pages) listens on a spare port; clients use a
    // socket straight into the Worker, which skips one Worker-to-Worker hop per request.
    host: "127.0.0.1",
    port: 0,
    // No cf.json download: requests get Miniflare's built-in placeholder `request.cf`.
    cf: false,
    // workerd's V8 inspector (DevTools, CPU profiles), only when asked for.
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
    // No per-request lines: Miniflare logs them from its entry Worker, which the direct socket bypasses.
    logRequests: false,
    // Miniflare otherwise sends every outbound fetch through a JavaScript Worker of its own that strips
    // CF-Connecting-IP (production does this natively): a hop production does not have, which cost the bench's
    // CPU figures about 180 µs a request on both sides. Meshgate never forwards a client's headers to a node.
    stripCfConnectingIp: false,
    log: new SinkLog(sink, LogLevel.WARN),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      // Always consume both pipes: an unread pipe fills up and blocks workerd.
      onLines(stdout, (line) => sink(line, "stdout"));
      onLines(stderr, (line) => sink(line, "stderr"));
    },
    durableObjectsPersist: opts.persistDir ?? false,
  };
}

/** The web pages' files, reached through the binding by the Worker's routes, which run first for every request. */
function assetsOptions(assets: AssetsConfig): NonNullable<WorkerOptions["assets"]> {
  return {
    directory: assets.directory,
    binding: assets.binding,
    routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
  };
}

/** The bundle as the Worker's one module: the member of Miniflare's WorkerOptions union that lists modules. */
type ModuleWorkerOptions = Extract<WorkerOptions, { modules?: unknown[] }>;

/** The gateway Worker itself (one copy of it per isolate). */
function workerOptions(opts: GatewayOptions, config: GatewayConfig, bundle: WorkerBundle): ModuleWorkerOptions {
  const allowPrivateNodeUrls = opts.allowPrivateNodeUrls ?? isLoopback(opts.host ?? "127.0.0.1");
  return {
    modulesRoot: bundle.modulesRoot,
    modules: [{ type: "ESModule", path: join(bundle.modulesRoot, bundle.path), contents: bundle.contents }],
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    durableObjects: config.durableObjects,
    bindings: {
      ...config.vars,
      ...(allowPrivateNodeUrls ? LOCAL_IDENTITY_LIMITS : {}),
      ...(opts.vars ?? readDevVars(DEV_VARS)),
      ALLOW_PRIVATE_NODE_URLS: String(allowPrivateNodeUrls),
    },
    ...(config.assets ? { assets: assetsOptions(config.assets) } : {}),
  };
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  installShutdownHandlers();
  await ensurePortFree(opts.host ?? "127.0.0.1", opts.port ?? 0);
  const config = readGatewayConfig(opts.configPath ?? WRANGLER_TOML);
  const bundle = await buildWorker(config.main, join(MESHGATE_DIR, "build"));
  const sink = opts.sink ?? prefixedSink("gateway");
  const isolated = (opts.isolates ?? 1) > 1;
  // Miniflare's scratch files (in-memory Durable Object state among them) go here rather than /tmp (see scratch.ts).
  const scratch = makeScratchDir("gateway");
  const mf = withTmpDir(scratch, () =>
    withoutMiniflareSignalHandlers(() => new Miniflare(miniflareOptions(opts, config, bundle, sink))),
  );
  let stopped: Promise<void> | null = null;
  let stopCron = (): void => {};
  const unregister = [onExit(() => removeScratchDirSync(scratch))];
  const stop = () => {
    stopped ??= (async () => {
      stopCron();
      try {
        await mf.dispose();
      } finally {
        await removeScratchDir(scratch);
        for (const u of unregister) u();
      }
    })();
    return stopped;
  };
  unregister.push(onShutdown(stop));
  const runScheduled = async (): Promise<void> => {
    if (config.crons.length === 0) throw new Error("wrangler.toml declares no Cron Trigger ([triggers] crons)");
    // With several isolates the crons run in the first copy, as one colo runs them in production.
    const worker = await mf.getWorker(isolated ? isolateName(0) : undefined);
    for (const cron of config.crons) {
      // Resolves once the handler and what it passed to waitUntil have settled.
      const { outcome } = await worker.scheduled({ cron });
      if (outcome !== "ok") throw new Error(`the scheduled handler for "${cron}" ended with outcome "${outcome}"`);
    }
  };
  let ready: URL;
  try {
    await mf.ready;
    ready = await mf.unsafeGetDirectURL(isolated ? "entry" : undefined);
  } catch (err) {
    await stop();
    throw err;
  }
  const interval = opts.probeIntervalMs ?? 0;
  if (interval > 0 && config.crons.length > 0)
    stopCron = repeatEvery(interval, runScheduled, (err) => sink(`scheduled run failed: ${errorText(err)}`, "stderr"));
  const port = Number(ready.port);
  const pid = findListeningChild(port);
  // Last resort if this process exits without stopping the gateway (e.g. a crash): never leave workerd behind.
  if (pid !== undefined) unregister.push(onExit(() => process.kill(pid, "SIGKILL")));
  return { url: ready.origin, port, pid, runScheduled, stop };
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
