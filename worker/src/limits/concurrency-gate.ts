// A cap on work of one kind under way at once in this isolate. Past it, new work is turned away at once rather than
// queued: a herd of callers with timeouts (agents redialling after a restart) then meets fast refusals and backs off,
// instead of queueing until every answer comes after its caller gave up, which is work done for nobody.

export class ConcurrencyGate {
  private running = 0;

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.running;
  }

  /** Takes a place, or returns null when all are taken; the holder calls the returned release exactly once. */
  enter(): (() => void) | null {
    if (this.running >= this.limit) return null;
    this.running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
    };
  }
}
