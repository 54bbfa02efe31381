// The exact count of requests each node is serving, as the one object that grants them knows it: every slot is a
// lease, taken before the node is asked and given back when its answer ends. A lease whose holder vanished (an isolate
// that died mid-request) lapses at its expiry, so a slot is never lost for good; until then it counts as taken, so a
// node is never sent more than it accepts. Pure: time comes in as an argument.

export interface Lease {
  id: string;
  nodeId: string;
  /** When the lease lapses unless renewed, ms since the epoch. */
  expiresAt: number;
}

export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  private readonly perNode = new Map<string, number>();

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
    const lapsed: Lease[] = [];
    for (const lease of this.leases.values()) if (lease.expiresAt <= now) lapsed.push(lease);
    for (const lease of lapsed) this.release(lease.id);
    return lapsed;
  }

  /** The earliest expiry among held leases; null when none is held. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const lease of this.leases.values()) if (next === null || lease.expiresAt < next) next = lease.expiresAt;
    return next;
  }

  private add(lease: Lease): void {
    this.leases.set(lease.id, { ...lease });
    this.perNode.set(lease.nodeId, (this.perNode.get(lease.nodeId) ?? 0) + 1);
  }
}
