// A node's body in tests: text pieces as separate chunks, then an end (closed, never, or broken off).
const encoder = new TextEncoder();

export type StreamEnd = "close" | "hang" | "error";

export function textStream(parts: readonly string[], end: StreamEnd = "close"): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      const part = parts[i++];
      if (part !== undefined) return controller.enqueue(encoder.encode(part));
      if (end === "hang") return new Promise(() => {});
      if (end === "error") return controller.error(new Error("connection reset"));
      controller.close();
    },
  });
}
