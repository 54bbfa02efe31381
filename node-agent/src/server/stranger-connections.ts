// Connections that have not carried a request the gateway signed are strangers'. Their number is bounded, so a flood
// of idle or half-sent connections cannot exhaust this process's file descriptors or memory: past the bound the
// oldest stranger is dropped. A connection leaves the count with its first authenticated request, so the gateway's
// connections are never dropped for this once in use; a new one is dropped only if more than the bound of strangers
// connect in the few milliseconds before its headers are checked, a rate of connections rather than a number held.

/** What the bound needs of a connection (a net.Socket in the server). */
export interface Droppable {
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

export class StrangerConnections<C extends Droppable> {
  /** Insertion order is arrival order, so the first entry is the oldest stranger. */
  private readonly strangers = new Set<C>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.strangers.size;
  }

  /** A new connection: a stranger until `trust`; drops the oldest stranger when there are more than the limit. */
  admit(connection: C): void {
    this.strangers.add(connection);
    connection.once("close", () => this.strangers.delete(connection));
    if (this.strangers.size <= this.limit) return;
    const oldest = this.strangers.values().next();
    if (oldest.done) return;
    this.strangers.delete(oldest.value);
    oldest.value.destroy();
  }

  /** The connection carried a request the gateway signed. */
  trust(connection: C): void {
    this.strangers.delete(connection);
  }
}
