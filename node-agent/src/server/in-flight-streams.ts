// The streamed answers being relayed now, by the gateway's request id, so the gateway can stop one whose client left.
// An entry lives exactly as long as its response, so the map never holds more than the requests in flight.
import type { ServerResponse } from "node:http";
import type { RelayedStream } from "./receipted-stream.js";

export class InFlightStreams {
  /** A set per id: nothing stops the gateway from sending the same request id twice, and each must be stoppable. */
  private readonly byRequest = new Map<string, Set<RelayedStream>>();

  /** Tracks `stream` under `requestId` until `res` closes. */
  add(requestId: string, stream: RelayedStream, res: ServerResponse): void {
    if (res.destroyed || res.writableFinished) return;
    let streams = this.byRequest.get(requestId);
    if (!streams) {
      streams = new Set();
      this.byRequest.set(requestId, streams);
    }
    const entry = streams;
    entry.add(stream);
    res.once("close", () => {
      entry.delete(stream);
      if (entry.size === 0 && this.byRequest.get(requestId) === entry) this.byRequest.delete(requestId);
    });
  }

  /** Stops every answer to `requestId` being relayed now; false when there was none. */
  stop(requestId: string): boolean {
    let stopped = false;
    for (const stream of [...(this.byRequest.get(requestId) ?? [])]) stopped = stream.stop() || stopped;
    return stopped;
  }

  /** Request ids tracked now. */
  get size(): number {
    return this.byRequest.size;
  }
}
