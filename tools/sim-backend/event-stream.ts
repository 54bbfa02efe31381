// Writes server-sent events the way OpenAI does: one `data: <json>\n\n` per write, then `data: [DONE]`.
import type { ServerResponse } from "node:http";
import { sleep } from "./http-io.js";

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Sends each event as its own write, waiting `intervalMs` between them, so a proxy that buffers is observable.
 * Stops quietly when the client goes away.
 */
export async function writeEventStream(res: ServerResponse, events: readonly unknown[], intervalMs: number): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (i > 0) await sleep(intervalMs);
    if (res.destroyed) return;
    if (!res.write(`data: ${JSON.stringify(events[i])}\n\n`)) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end("data: [DONE]\n\n");
}
