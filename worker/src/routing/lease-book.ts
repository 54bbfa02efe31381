// The exact count of requests each node is serving, as the one object that grants them knows it: every slot is a
// lease, taken before the node is asked and given back when its answer ends. A lease whose holder vanished (an isolate
// that died mid-request) lapses at its expiry, so a slot is never lost for good; until then it counts as taken, so a
// node is never sent more than it accepts. Pure: time comes in as an argument.

/** A lease lapses this long after it was granted or last renewed: what a holder that vanished costs its node. */
export const LEASE_TTL_MS = 60_000;
/** A holder renews a streaming answer's lease this often: three chances before the lease would lapse. */
export const LEASE_RENEW_MS = LEASE_TTL_MS / 3;

export interface Lease {
  id: string;
  nodeId: string;
  /** When the lease lapses unless renewed, ms since the epoch. */
  expiresAt: number;
}

export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  private readonly perNode = new Map<string, number>();
  /**
   * No lease expires before this: a lower bound kept without scanning (grants lower it, renewals and releases leave it
   * valid), so `expire` walks the leases only once one may really have lapsed.
   */
  private earliest = Infinity;

  constructor(leases: Iterable<Lease> = []) {
    for (const lease of leases) this.add(lease);
  }

  /** Leases the node holds now (expired ones count until `expire` drops them: a grant always expires first). */
  held(nodeId: string): number {
    return this.perNode.get(nodeId) ?? 0;
  }

  get size(): number {
    return this.leases.size;
  }

  has(id: string): boolean {
    return this.leases.has(id);
  }

  /** Records a lease the caller decided to grant; refuses a duplicate id. */
  grant(lease: Lease): void {
    if (this.leases.has(lease.id)) throw new Error(`lease ${lease.id} is already held`);
    this.add(lease);
  }

  /** Gives the lease back; null when it was unknown (already released, or lapsed). */
  release(id: string): Lease | null {
    const lease = this.leases.get(id);
    if (!lease) return null;
    this.leases.delete(id);
    const left = (this.perNode.get(lease.nodeId) ?? 1) - 1;
    if (left <= 0) this.perNode.delete(lease.nodeId);
    else this.perNode.set(lease.nodeId, left);
    return lease;
  }

  /** Moves a held lease's expiry to `expiresAt` (never earlier); null when it is no longer held. */
  renew(id: string, expiresAt: number): Lease | null {
    const lease = this.leases.get(id);
    if (!lease) return null;
    lease.expiresAt = Math.max(lease.expiresAt, expiresAt);
    return lease;
  }

  /** Drops every lease expired at `now`, returning them. */
  expire(now: number): Lease[] {
    if (now < this.earliest) return [];
    const lapsed: Lease[] = [];
    let earliest = Infinity;
    for (const lease of this.leases.values()) {
      if (lease.expiresAt <= now) lapsed.push(lease);
      else earliest = Math.min(earliest, lease.expiresAt);
    }
    for (const lease of lapsed) this.release(lease.id);
    this.earliest = earliest;
    return lapsed;
  }

  private add(lease: Lease): void {
    this.earliest = Math.min(this.earliest, lease.expiresAt);
    this.leases.set(lease.id, { ...lease });
    this.perNode.set(lease.nodeId, (this.perNode.get(lease.nodeId) ?? 0) + 1);
  }
}
