// Relay variant: the runtime relays the body natively (tee); JavaScript reads the copy a chunk at a time.
interface FloorEnv {
  BACKEND_URL: string;
}

async function drain(copy: ReadableStream<Uint8Array>): Promise<void> {
  const reader = copy.getReader();
  while (!(await reader.read()).done);
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
    if (!answer.body) return answer;
    const [toClient, copy] = answer.body.tee();
    ctx.waitUntil(drain(copy));
    return new Response(toClient, answer);
  },
};
