// The one owner of process signals: the first SIGINT/SIGTERM stops the agent cleanly and exits 0; a second one
// exits at once.
import type { Logger } from "./log.js";

export interface Shutdown {
  /** Aborted on the first signal, so startup steps that are still waiting give up. */
  signal: AbortSignal;
  /** What to run before exiting; set once the agent is up. */
  setCleanup(cleanup: () => Promise<void>): void;
}

export function handleShutdownSignals(log: Logger): Shutdown {
  const controller = new AbortController();
  let cleanup: () => Promise<void> = () => Promise.resolve();
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log("second signal, exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log("shutting down", { signal });
    // The default reason is an AbortError, which the CLI recognises as "stopping", not as a failure.
    controller.abort();
    cleanup().then(
      () => {
        log("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log("error while stopping", { error: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    setCleanup: (fn) => {
      cleanup = fn;
    },
  };
}
