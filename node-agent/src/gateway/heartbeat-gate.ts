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

/**
 * The gateway keeps a node whose session dropped listed for its reconnect grace (2 × its reconnect window + 1 s, 5 s by
 * default): a session back within it needs no heartbeat, so after a fleet-wide drop the nodes dial their sessions
 * again rather than all heartbeat into the registry at once.
 */
export const HEARTBEAT_RESUME_DELAY_MS = 5_000;

/** Pauses and resumes a heartbeat loop as what it hears from the heartbeats' acks and the session changes. */
export class HeartbeatGate {
  private urlProven = false;
  private sessionLive = false;
  /** Whether the loop is paused now (it stays paused while a dropped session has its grace). */
  private loopPaused = false;
  private resumeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly heartbeats: Pausable,
    /** Told when heartbeats pause (true) or resume (false). */
    private readonly onChange: (paused: boolean) => void = () => {},
    /** How long a dropped session has to come back before heartbeats resume. */
    private readonly resumeDelayMs = HEARTBEAT_RESUME_DELAY_MS,
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

  /** No heartbeat is sent later by this gate (the agent stops). */
  stop(): void {
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
  }

  private apply(): void {
    if (this.paused) {
      this.stop();
      this.heartbeats.pause();
      if (!this.loopPaused) this.onChange(true);
      this.loopPaused = true;
    } else if (this.loopPaused && this.urlProven && this.resumeDelayMs > 0) {
      // The session dropped: give it the gateway's grace to come back before heartbeating.
      this.resumeTimer ??= setTimeout(() => this.resume(), this.resumeDelayMs);
    } else if (!this.resumeTimer) this.resume();
  }

  private resume(): void {
    this.resumeTimer = null;
    this.heartbeats.resume();
    if (this.loopPaused) this.onChange(false);
    this.loopPaused = false;
  }
}
