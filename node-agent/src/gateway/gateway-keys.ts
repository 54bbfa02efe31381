// The gateway keys this agent accepts, kept current: refetched from /.well-known/meshgate.json periodically, and at
// once when a dispatch names a key the agent does not know (the gateway rotated). On-demand refetches are rate
// limited, so requests naming made-up keys cannot make the agent hammer the gateway.
import type { GatewayKey, GatewayMetadata, KeyVerifier } from "@meshgate/schemas";
import { errorMessage, type Logger } from "../log.js";
import { importGatewayKey, verifyWith, type UsableKey } from "./gateway-verifier.js";

export interface GatewayKeySetOptions {
  fetchMetadata: () => Promise<GatewayMetadata>;
  log: Logger;
  now?: () => number;
  /** Background refresh period; also drops keys whose `not_after` passed from the listing. */
  refreshEveryMs?: number;
  /** At most one on-demand refresh per this interval. */
  minRefreshIntervalMs?: number;
}

export class GatewayKeySet {
  private keys = new Map<string, UsableKey>();
  private lastRefresh = 0;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly options: GatewayKeySetOptions,
    initial: GatewayMetadata,
  ) {
    this.now = options.now ?? Date.now;
    this.install(initial.keys);
  }

  /** Key ids currently accepted, current key first. */
  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  start(): void {
    const every = this.options.refreshEveryMs ?? 5 * 60_000;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  readonly verifier: KeyVerifier = async (keyId, data, signature) => {
    let found = this.usable(keyId);
    if (!found && this.now() - this.lastRefresh >= (this.options.minRefreshIntervalMs ?? 10_000)) {
      await this.refresh();
      found = this.usable(keyId);
    }
    return found ? verifyWith(found.key, data, signature) : null;
  };

  /** Refetches the published keys; concurrent callers share one fetch; failures keep the keys already known. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.lastRefresh = this.now();
      try {
        const before = this.keyIds().join(",");
        this.install((await this.options.fetchMetadata()).keys);
        const after = this.keyIds().join(",");
        if (after !== before) this.options.log("gateway keys updated", { keys: after });
      } catch (err) {
        this.options.log("gateway key refresh failed", { error: errorMessage(err) });
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  private install(published: readonly GatewayKey[]): void {
    const next = new Map<string, UsableKey>();
    for (const key of published) {
      try {
        next.set(key.kid, importGatewayKey(key));
      } catch (err) {
        this.options.log("ignoring unusable gateway key", { kid: key.kid, error: errorMessage(err) });
      }
    }
    if (next.size > 0) this.keys = next;
  }

  private usable(keyId: string): UsableKey | undefined {
    const found = this.keys.get(keyId);
    return found && (found.notAfter === null || found.notAfter > this.now()) ? found : undefined;
  }
}
