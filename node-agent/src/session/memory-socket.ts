// Two connected in-memory streams, the ends of a socket that never touches the network: what one end writes, the other
// reads, with backpressure (a write completes only once the reader has room). A request relayed down a session is
// served by the agent's own HTTP server over one of these, so it is parsed, checked and answered exactly as a request
// from a TCP connection would be. Node 20 has no stream.duplexPair.
import { Duplex } from "node:stream";

/** What the agent's HTTP server logs as a relayed request's origin (where a TCP peer's address would be). */
export const SESSION_PEER_ADDRESS = "gateway-session";

export class MemorySocket extends Duplex {
  /** Read by the server's logs, as on a net.Socket. */
  readonly remoteAddress = SESSION_PEER_ADDRESS;
  private peer: MemorySocket | null = null;
  /** The peer's write waiting for this end to be read (its chunk is pushed; its callback is held back). */
  private heldWrite: (() => void) | null = null;

  /** Connects two fresh ends; see memorySocketPair. */
  static link(a: MemorySocket, b: MemorySocket): void {
    a.peer = b;
    b.peer = a;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    // The other end is gone: like bytes sent to a closed connection, they are lost (this end is being destroyed too).
    if (!peer || peer.destroyed || peer.push(chunk)) callback();
    else peer.heldWrite = () => callback();
  }

  override _read(): void {
    this.releaseHeldWrite();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.peer && !this.peer.destroyed) this.peer.push(null);
    callback();
  }

  /** Destroying either end destroys the other, as a reset connection ends for both sides. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.releaseHeldWrite();
    if (this.peer && !this.peer.destroyed) this.peer.destroy();
    callback(error);
  }

  // The socket options node:http sets on a connection mean nothing in memory: accepted and ignored.
  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(): this {
    return this;
  }

  private releaseHeldWrite(): void {
    const held = this.heldWrite;
    this.heldWrite = null;
    held?.();
  }
}

/** The two ends of one in-memory connection. */
export function memorySocketPair(): [MemorySocket, MemorySocket] {
  const a = new MemorySocket();
  const b = new MemorySocket();
  MemorySocket.link(a, b);
  return [a, b];
}
