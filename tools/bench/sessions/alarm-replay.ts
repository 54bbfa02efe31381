// The session object's silence alarm, replayed from outside. NodeSession (worker/src/durable/node-session) arms an
// alarm SESSION_SILENCE_LIMIT_MS after opening; when it fires it takes the later of the opening and the last keep-alive
// the runtime answered, and re-arms at that + the limit + 100 ms, or closes the session if that is already past. The
// object is never told of a ping, so the harness cannot count alarms directly: it replays this rule on the ping times
// it recorded. A ping reached the gateway between its send and its pong. The runtime stamps a keep-alive as it answers
// it, and the client (lightly loaded while it holds) reads the pong at once, while a send may wait in workerd's queue:
// so the replay on pong times is the estimate, and the one on send times says how much the count could move.
import { SESSION_SILENCE_LIMIT_MS } from "@meshgate/schemas";

/** NodeSession.alarm(): `setAlarm(next + 100)`, copied here (that module needs workerd). */
export const ALARM_REARM_SLACK_MS = 100;

export interface AlarmReplay {
  /** When each alarm fired, ascending. */
  fires: number[];
  /** When the rule would have closed the session for silence; null if it stayed open until the horizon. */
  silencedAt: number | null;
  /** The alarm armed past the horizon; null once silenced. */
  nextAt: number | null;
}

/** The alarms of one session opened at `openedAt` whose keep-alives arrived at `arrivals` (ascending), up to `until`. */
export function replayAlarms(
  openedAt: number,
  arrivals: readonly number[],
  until: number,
  silenceMs: number = SESSION_SILENCE_LIMIT_MS,
): AlarmReplay {
  const fires: number[] = [];
  let at = openedAt + silenceMs;
  let next = 0;
  let heard = openedAt;
  while (at <= until) {
    fires.push(at);
    while (next < arrivals.length && (arrivals[next] ?? Number.POSITIVE_INFINITY) <= at) {
      heard = Math.max(heard, arrivals[next] ?? heard);
      next++;
    }
    if (at - heard >= silenceMs) return { fires, silencedAt: at, nextAt: null };
    at = heard + silenceMs + ALARM_REARM_SLACK_MS;
  }
  return { fires, silencedAt: null, nextAt: at };
}

/** How many of ascending `times` fall in [from, to). */
export function countBetween(times: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const t of times) if (t >= from && t < to) n++;
  return n;
}

/** Alarms replayed two ways. */
export interface AlarmCount {
  /** Taking each ping to have arrived when its pong came back: the estimate the tables use. */
  answered: number;
  /** Taking each ping to have arrived when it was sent. */
  sent: number;
}
