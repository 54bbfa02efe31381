// Relay variant: every chunk read and written by JavaScript (a reader and an identity stream's writer), nothing else.
// READ: a default reader, or a byte reader into 16 KiB buffers; WRITES: each awaited before the next read, or queued
// (awaited only when the writer reports a full queue).
import { fetchBackend } from "./backend.js";

interface FloorEnv {
  BACKEND_URL: string;
  READ: "default" | "byob";
  WRITES: "awaited" | "queued";
}

function reads(
  body: ReadableStream<Uint8Array>,
  mode: FloorEnv["READ"],
): () => Promise<ReadableStreamReadResult<Uint8Array>> {
  if (mode === "default") {
    const reader = body.getReader();
    return () => reader.read();
  }
  const reader = body.getReader({ mode: "byob" });
  return () => reader.read(new Uint8Array(16 * 1024));
}

async function pump(
  read: () => Promise<ReadableStreamReadResult<Uint8Array>>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  writes: FloorEnv["WRITES"],
): Promise<void> {
  for (;;) {
    const step = await read();
    if (step.done) break;
    if (writes === "awaited") await writer.write(step.value);
    else {
      void writer.write(step.value).catch(() => {});
      if ((writer.desiredSize ?? 1) <= 0) await writer.ready;
    }
  }
  await writer.close();
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const answer = await fetchBackend(request, env.BACKEND_URL);
    if (!answer.body) return answer;
    const { readable, writable } = new IdentityTransformStream();
    ctx.waitUntil(pump(reads(answer.body, env.READ), writable.getWriter(), env.WRITES));
    return new Response(readable, answer);
  },
};
