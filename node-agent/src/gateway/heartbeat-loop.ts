// Registers the node and keeps it live: a signed heartbeat every `interval_ms` (as the gateway's ack says).
// Gateway errors never stop the loop; they are logged once per distinct failure, and recovery is logged too.
import {
  HeartbeatAckSchema,
  NODE_KEY_HEADER,
  signRequest,
  utf8,
  type AdvertisedModel,
  type Heartbeat,
  type HeartbeatAck,
} from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";
import { errorMessage, type Logger } from "../log.js";
import { readErrorResponse } from "./error-response.js";

const REQUEST_TIMEOUT_MS = 10_000;
const MIN_INTERVAL_MS = 50;
const MAX_INTERVAL_MS = 60_000;
/** A failure that keeps repeating is logged again every this many heartbeats, so a stuck node stays visible. */
const REPEAT_LOG_EVERY = 15;

export interface HeartbeatOptions {
  gatewayUrl: string;
  heartbeatPath: string;
  /** The identity signing right now; it changes when the key is rotated. */
  identity: () => NodeIdentity;
  publicUrl: string;
  models: readonly AdvertisedModel[];
  capacity: number;
  inFlight: () => number;
  intervalMs: number;
  log: Logger;
  /** Called when the gateway says the signing key was rotated out (e.g. by `node-agent rotate-key` meanwhile). */
  onKeyRevoked?: () => Promise<void>;
  /** Called with every ack's status: "active" once the gateway proved the node's URL. */
  onStatus?: (status: HeartbeatAck["status"]) => void;
}

export class HeartbeatLoop {
  private readonly url: string;
  private intervalMs: number;
  // Sequence numbers track the clock, so a restarted agent never reuses one (the gateway refuses non-increasing seq).
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly stopping = new AbortController();
  private everRegistered = false;
  private paused = false;
  private sending = false;
  private lastStatus = "";
  private failures = 0;
  private lastFailure = "";

  constructor(private readonly options: HeartbeatOptions) {
    this.url = new URL(options.heartbeatPath, options.gatewayUrl).href;
    this.intervalMs = options.intervalMs;
  }

  start(): void {
    void this.beat();
  }

  stop(): void {
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends no more heartbeats until resumed (one already under way finishes). */
  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Heartbeats again, the first at once (or as soon as the one under way is answered). */
  resume(): void {
    if (!this.paused || this.stopping.signal.aborted) return;
    this.paused = false;
    if (!this.sending) void this.beat();
  }

  private async beat(): Promise<void> {
    this.timer = null;
    this.sending = true;
    try {
      await this.send();
    } catch (err) {
      if (!this.stopping.signal.aborted) this.failed(`heartbeat request failed: ${errorMessage(err)}`);
    } finally {
      this.sending = false;
    }
    if (!this.stopping.signal.aborted && !this.paused) this.timer = setTimeout(() => void this.beat(), this.intervalMs);
  }

  private async send(): Promise<void> {
    const { publicUrl, models, capacity, log } = this.options;
    const identity = this.options.identity();
    const now = Date.now();
    this.seq = Math.max(this.seq + 1, now);
    const heartbeat: Heartbeat = {
      node_id: identity.nodeId,
      url: publicUrl,
      models: [...models],
      capacity,
      in_flight: this.options.inFlight(),
      timestamp: now,
      seq: this.seq,
    };
    const body = utf8(JSON.stringify(heartbeat));
    const headers = new Headers({ "content-type": "application/json", [NODE_KEY_HEADER]: identity.publicKey });
    await signRequest({ method: "POST", url: this.url, headers, body, signer: identity.signer, now });
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const res = await fetch(this.url, { method: "POST", headers, body, signal });
    if (!res.ok) {
      const refusal = await readErrorResponse(res);
      if (refusal.code === "revoked_key" && this.options.onKeyRevoked) await this.options.onKeyRevoked();
      return this.failed(`gateway refused heartbeat: ${refusal.description}`);
    }
    const ack = HeartbeatAckSchema.safeParse(await res.json());
    if (!ack.success) return this.failed("gateway sent a malformed heartbeat ack");
    this.intervalMs = Math.min(Math.max(ack.data.interval_ms, MIN_INTERVAL_MS), MAX_INTERVAL_MS);
    if (this.failures > 0) log("heartbeat recovered", { failures: this.failures });
    this.failures = 0;
    this.lastFailure = "";
    if (ack.data.registered) {
      log(this.everRegistered ? "re-registered with gateway" : "registered with gateway", {
        node: identity.nodeId,
        url: publicUrl,
        models: models.length,
        interval_ms: this.intervalMs,
      });
      this.everRegistered = true;
    }
    this.options.onStatus?.(ack.data.status);
    if (ack.data.status !== this.lastStatus) {
      log(
        ack.data.status === "active"
          ? "endpoint verified; receiving traffic"
          : "waiting for the gateway to verify this node's URL",
        { url: publicUrl },
      );
      this.lastStatus = ack.data.status;
    }
  }

  private failed(reason: string): void {
    this.failures += 1;
    if (reason !== this.lastFailure || this.failures % REPEAT_LOG_EVERY === 0) {
      this.options.log("heartbeat failed", { failures: this.failures, error: reason });
    }
    this.lastFailure = reason;
  }
}
