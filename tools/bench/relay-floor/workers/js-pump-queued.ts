// Relay variant: every chunk read in JavaScript and written without waiting for the client to take it (writes
// queue in the identity stream; the pump waits only when the writer reports a full queue), nothing else.
interface FloorEnv {
  BACKEND_URL: string;
  READ: "default" | "byob";
}

async function pump(body: ReadableStream<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>, read: FloorEnv["READ"]): Promise<void> {
  if (read === "byob") {
    const reader = body.getReader({ mode: "byob" });
    for (;;) {
      const step = await reader.read(new Uint8Array(16 * 1024));
      if (step.done) break;
      void writer.write(step.value).catch(() => {});
      if ((writer.desiredSize ?? 1) <= 0) await writer.ready;
    }
  } else {
    const reader = body.getReader();
    for (;;) {
      const step = await reader.read();
      if (step.done) break;
      void writer.write(step.value).catch(() => {});
      if ((writer.desiredSize ?? 1) <= 0) await writer.ready;
    }
  }
  await writer.close();
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
    if (!answer.body) return answer;
    const { readable, writable } = new IdentityTransformStream();
    ctx.waitUntil(pump(answer.body, writable.getWriter(), env.READ));
    return new Response(readable, answer);
  },
};
