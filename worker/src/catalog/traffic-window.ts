// Requests the mesh's nodes were sent and how many they answered well, per minute over the last hour: what the status
// page charts. Counted where every judged outcome already arrives (the registry), so no object hears more than before.
// Pure: time comes in as an argument.
import type { TrafficMinute } from "@meshgate/schemas";

export const MINUTE_MS = 60_000;
/** Minutes kept and shown. */
export const WINDOW_MINUTES = 60;

export type { TrafficMinute };

export function minuteOf(at: number): number {
  return Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/** The last hour's counts, by minute; minutes with no traffic are absent until read. */
export class TrafficWindow {
  private readonly minutes = new Map<number, TrafficMinute>();

  constructor(held: Iterable<TrafficMinute> = []) {
    for (const m of held) this.minutes.set(m.start, { ...m });
  }

  /**
   * One judged outcome at `at`. One older than the window is not counted; one from a clock ahead of `now` (another
   * machine's) counts in `now`'s minute.
   */
  count(at: number, succeeded: boolean, now: number): TrafficMinute | null {
    const start = Math.min(minuteOf(at), minuteOf(now));
    if (start <= minuteOf(now) - WINDOW_MINUTES * MINUTE_MS) return null;
    let m = this.minutes.get(start);
    if (!m) {
      m = { start, requests: 0, succeeded: 0 };
      this.minutes.set(start, m);
    }
    m.requests++;
    if (succeeded) m.succeeded++;
    return m;
  }

  /** The window ending with `now`'s minute, oldest first, one entry per minute (zeros where nothing happened). */
  read(now: number): TrafficMinute[] {
    const last = minuteOf(now);
    const first = last - (WINDOW_MINUTES - 1) * MINUTE_MS;
    for (const start of this.minutes.keys()) if (start < first) this.minutes.delete(start);
    const out: TrafficMinute[] = [];
    for (let start = first; start <= last; start += MINUTE_MS)
      out.push({ ...(this.minutes.get(start) ?? { start, requests: 0, succeeded: 0 }) });
    return out;
  }
}
