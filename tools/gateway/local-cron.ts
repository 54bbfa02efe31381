// Neither Miniflare nor `wrangler dev` fires the Worker's Cron Triggers by itself, so local tools fire them on a timer.

/** Production runs the health probes every minute; locally more often, so a stopped node shows up soon. */
export const LOCAL_CRON_INTERVAL_MS = 10_000;

/**
 * Calls `run` every `intervalMs`, one run at a time (the next counted from the end of the last), until the returned
 * function is called. A failed run goes to `onError` and the timer goes on.
 */
export function repeatEvery(intervalMs: number, run: () => Promise<void>, onError: (err: unknown) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = setTimeout(() => {
      run()
        .catch((err: unknown) => {
          if (!stopped) onError(err);
        })
        .finally(() => {
          if (!stopped) tick();
        });
    }, intervalMs);
    // What serves the gateway keeps the process alive; a pending timer alone should not.
    timer.unref();
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
