// Relay variant: every chunk read and written by JavaScript (a reader and an identity stream's writer), nothing else.
interface FloorEnv {
  BACKEND_URL: string;
}

async function pump(reader: ReadableStreamDefaultReader<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>): Promise<void> {
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    await writer.write(step.value);
  }
  await writer.close();
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
    if (!answer.body) return answer;
    const { readable, writable } = new IdentityTransformStream();
    ctx.waitUntil(pump(answer.body.getReader(), writable.getWriter()));
    return new Response(readable, answer);
  },
};
