// Writes server-sent events the way OpenAI does: one `data: <json>\n\n` per write, then `data: [DONE]`; or, for the
// Responses API, `event: <type>\ndata: <json>\n\n` per write and no `[DONE]`.
import type { ServerResponse } from "node:http";

/** Told of each event written, and of a stream the client left before its end. */
export interface StreamObserver {
  streamEvent(): void;
  streamAbandoned(): void;
}

/** Resolves once the response drains or closes, whichever comes first, leaving no listener behind. */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
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

/** Waits `ms`, or less if the client goes away meanwhile: generation stops as soon as nobody reads it. */
function pauseUnlessClosed(res: ServerResponse, ms: number): Promise<void> {
  if (ms <= 0 || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on("close", done);
  });
}

function encodeEvent(event: unknown, format: "chat" | "responses"): string {
  const type = typeof event === "object" && event !== null && "type" in event ? String(event.type) : "message";
  return `${format === "responses" ? `event: ${type}\n` : ""}data: ${JSON.stringify(event)}\n\n`;
}

/**
 * Sends each event as its own write, waiting `intervalMs` between them, so a proxy that buffers is observable.
 * Stops quietly when the client goes away.
 */
export async function writeEventStream(
  res: ServerResponse,
  events: readonly unknown[],
  intervalMs: number,
  observer: StreamObserver,
  format: "chat" | "responses" = "chat",
): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (i > 0) await pauseUnlessClosed(res, intervalMs);
    if (res.destroyed) return observer.streamAbandoned();
    observer.streamEvent();
    if (!res.write(encodeEvent(events[i], format))) await drainedOrClosed(res);
  }
  if (res.destroyed) return observer.streamAbandoned();
  if (format === "responses") return void res.end();
  observer.streamEvent();
  res.end("data: [DONE]\n\n");
}
