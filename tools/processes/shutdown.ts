// The one place that decides how this process ends: on SIGINT/SIGTERM/SIGHUP it runs every registered cleanup
// (stopping child process groups, disposing the gateway) and then exits; a second signal skips the grace periods.
// On any exit, including a crash, the synchronous hooks still kill what is left, so no child outlives us.

type Cleanup = () => Promise<void> | void;

const cleanups = new Set<Cleanup>();
const exitHooks = new Set<() => void>();
let installed = false;
let shuttingDown: Promise<void> | null = null;

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

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

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal] ?? 1;
  if (shuttingDown !== null) {
    // Second signal: the user is done waiting. The exit hooks kill whatever is still running.
    process.exit(code);
  }
  void shutdown().finally(() => process.exit(code));
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
