// A listening node that also holds a session heartbeats only while it must: until the gateway proved its URL (only a
// heartbeat registers a URL, and only a proven one is dispatched to), and whenever its session is down (then the
// heartbeats are what keeps it listed). While its session is live and its URL proven, the session carries its
// liveness, and keep-alives on a session cost the gateway's registry nothing.
import type { HeartbeatAck } from "@meshgate/schemas";

/** The rule itself: heartbeats are needed unless the URL is proven and the session is live. */
export function heartbeatsNeeded(urlProven: boolean, sessionLive: boolean): boolean {
  return !(urlProven && sessionLive);
}

export interface Pausable {
  pause(): void;
  resume(): void;
}

/** Pauses and resumes a heartbeat loop as what it hears from the heartbeats' acks and the session changes. */
export class HeartbeatGate {
  private urlProven = false;
  private sessionLive = false;

  constructor(
    private readonly heartbeats: Pausable,
    /** Told when heartbeats pause (true) or resume (false). */
    private readonly onChange: (paused: boolean) => void = () => {},
  ) {}

  /** A heartbeat ack's status: "active" once the gateway proved the URL. */
  heartbeatStatus(status: HeartbeatAck["status"]): void {
    this.urlProven = status === "active";
    this.apply();
  }

  /** The session is live (its state accepted) or not (closed, dialling again, or its state refused). */
  session(live: boolean): void {
    this.sessionLive = live;
    this.apply();
  }

  get paused(): boolean {
    return !heartbeatsNeeded(this.urlProven, this.sessionLive);
  }

  private wasPaused = false;

  private apply(): void {
    const paused = this.paused;
    if (paused) this.heartbeats.pause();
    else this.heartbeats.resume();
    if (paused !== this.wasPaused) this.onChange(paused);
    this.wasPaused = paused;
  }
}
