// Stands in for a modified node agent that ignores the gateway's cancel: placed in front of a stock agent (as its
// --public-url), it passes every request through except POST /meshgate/cancel, which it acknowledges and drops, so
// the agent goes on relaying its upstream's answer after the client has left.
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { CANCEL_PATH } from "@meshgate/schemas";

export interface CancelDroppingProxy {
  url: string;
  /** The agent behind it; requests before it is set answer 502. */
  target: string;
  /** Cancels acknowledged and dropped. */
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startCancelDroppingProxy(): Promise<CancelDroppingProxy> {
  const state = { target: "", dropped: 0 };
  const server = createServer((req, res) => {
    if (req.method === "POST" && req.url === CANCEL_PATH) {
      state.dropped++;
      req.resume();
      res.writeHead(200, { "content-type": "application/json" }).end('{"cancelled":true}');
      return;
    }
    if (!state.target) return void res.writeHead(502).end();
    const upstream = httpRequest(`${state.target}${req.url ?? "/"}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(next: string) {
      state.target = next;
    },
    get dropped() {
      return state.dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
