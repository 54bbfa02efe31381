// The one place that decides how this process ends: on SIGINT/SIGTERM/SIGHUP it runs every registered cleanup
// (stopping child process groups, disposing the gateway) and then exits; a second signal skips the grace periods.
// On any exit, including a crash, the synchronous hooks still kill what is left, so no child outlives us. A tool can
// also ask to be stopped when the process that started it is gone (see shutdownWithParent).

type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
const exitHooks = new Set<() => void>();
let installed = false;
let shuttingDown: Promise<void> | null = null;

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * npm forwards SIGINT and SIGTERM to the script it runs, so one Ctrl-C at a terminal (which signals the whole
 * foreground process group, npm included) reaches an `npm start` twice, a few milliseconds apart. Under npm, the same
 * signal again within this window is that echo, not a second request.
 */
const NPM_ECHO_WINDOW_MS = 1_000;
const underNpm = process.env["npm_lifecycle_event"] !== undefined;
let firstSignal: { signal: NodeJS.Signals; at: number } | null = null;

/** Registers async work to run on a graceful shutdown; returns a function that unregisters it. */
export function onShutdown(cleanup: Cleanup): () => void {
  installShutdownHandlers();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Registers synchronous last-resort work for `process.on("exit")`; returns a function that unregisters it. */
export function onExit(hook: () => void): () => void {
  installShutdownHandlers();
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

/**
 * Runs every cleanup once, whoever asks first, newest first: what started last (a node agent) depends on what
 * started before it (the gateway), so it stops first.
 */
export function shutdown(): Promise<void> {
  shuttingDown ??= (async () => {
    for (const cleanup of [...cleanups].reverse()) {
      try {
        await cleanup();
      } catch (err) {
        console.error("cleanup failed:", err);
      }
    }
  })();
  return shuttingDown;
}

function isNpmEcho(signal: NodeJS.Signals): boolean {
  return underNpm && firstSignal?.signal === signal && performance.now() - firstSignal.at < NPM_ECHO_WINDOW_MS;
}

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal] ?? 1;
  if (shuttingDown !== null) {
    if (isNpmEcho(signal)) return;
    // Second signal: the user is done waiting. The exit hooks kill whatever is still running.
    process.exit(code);
  }
  firstSignal = { signal, at: performance.now() };
  void shutdown().finally(() => process.exit(code));
}

/** How often shutdownWithParent looks at the parent: a freed port soon after npm is killed, for next to no CPU. */
const PARENT_POLL_MS = 200;

/**
 * Shuts down as on SIGHUP once the process that started this one has gone. npm forwards only SIGINT and SIGTERM, so
 * a SIGHUP (or SIGKILL) sent to npm alone ends npm and leaves its script running, children and ports included, with
 * nothing left to stop it.
 */
export function shutdownWithParent(): void {
  installShutdownHandlers();
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    // The terminal may have gone with the parent: a failed write must not cut the cleanups short.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
    // Already stopping (the parent may have been signalled, then killed): let the cleanups finish.
    if (shuttingDown === null) onSignal("SIGHUP");
  }, PARENT_POLL_MS);
  timer.unref();
}

export function installShutdownHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
  process.on("exit", () => {
    for (const hook of exitHooks) {
      try {
        hook();
      } catch {
        // Best effort: the process is going away regardless.
      }
    }
  });
}
