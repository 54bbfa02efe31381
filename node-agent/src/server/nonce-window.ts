// Remembers the nonces of accepted dispatches until their signatures expire, so a captured request cannot be
// replayed. Entries are pruned from the oldest end; the cap bounds memory if traffic outruns expiry.
export const DEFAULT_MAX_NONCES = 1_000_000;

export class NonceWindow {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly maxEntries = DEFAULT_MAX_NONCES) {}

  get size(): number {
    return this.expiries.size;
  }

  /** Records `nonce` until `expiresAtMs`; false if it was already recorded and has not expired yet. */
  claim(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    const seen = this.expiries.get(nonce);
    if (seen !== undefined && seen > nowMs) return false;
    this.expiries.set(nonce, expiresAtMs);
    if (this.expiries.size > this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (!oldest.done) this.expiries.delete(oldest.value);
    }
    return true;
  }

  // Insertion order is roughly expiry order, so stopping at the first live entry keeps this O(1) amortized.
  private prune(nowMs: number): void {
    for (const [nonce, expiresAt] of this.expiries) {
      if (expiresAt > nowMs) return;
      this.expiries.delete(nonce);
    }
  }
}
