// Relay variant: the runtime relays the body natively (tee); JavaScript reads the copy, a chunk at a time, in
// batches (readAtLeast, which the tee passes on to the body: the client's branch gets batches too), or polled (all
// that came every 100 ms, leaving the client's pace alone), as COPY_READ says.
interface FloorEnv {
  BACKEND_URL: string;
  COPY_READ: "chunks" | "batches" | "poll";
}

const ROOM = 64 * 1024;

async function drain(copy: ReadableStream<Uint8Array>, read: FloorEnv["COPY_READ"]): Promise<void> {
  if (read === "chunks") {
    const reader = copy.getReader();
    while (!(await reader.read()).done);
    return;
  }
  const reader = copy.getReader({ mode: "byob" });
  if (read === "batches") {
    while (!(await reader.readAtLeast(8192, new Uint8Array(16384))).done);
    return;
  }
  for (;;) {
    const step = await reader.readAtLeast(1, new Uint8Array(ROOM));
    if (step.done) return;
    if ((step.value?.byteLength ?? 0) < ROOM) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
    if (!answer.body) return answer;
    const [toClient, copy] = answer.body.tee();
    ctx.waitUntil(drain(copy, env.COPY_READ));
    return new Response(toClient, answer);
  },
};
