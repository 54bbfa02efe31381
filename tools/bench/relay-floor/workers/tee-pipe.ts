// Relay variant: the body is teed; the client's branch is piped natively into an identity stream the Worker still
// holds (so it can add an event and close it after the pipe ends), and JavaScript reads the copy (see drain).
interface FloorEnv {
  BACKEND_URL: string;
  COPY_READ: "batches" | "poll";
}

const ROOM = 64 * 1024;

/**
 * "batches" asks for 8 KiB at a time, which the runtime's tee passes on to the body, so the client's branch gets
 * batches too; "poll" takes all that came every 100 ms, a byte at least, and leaves the client's pace alone.
 */
async function drain(copy: ReadableStream<Uint8Array>, read: FloorEnv["COPY_READ"]): Promise<void> {
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

const trailer = new TextEncoder().encode(": relayed\n\n");

async function relay(toClient: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, metered: Promise<void>): Promise<void> {
  await toClient.pipeTo(writable, { preventClose: true });
  await metered;
  const writer = writable.getWriter();
  await writer.write(trailer);
  await writer.close();
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const answer = await fetch(new Request(new URL(url.pathname + url.search, env.BACKEND_URL), request));
    if (!answer.body) return answer;
    const [toClient, copy] = answer.body.tee();
    const { readable, writable } = new IdentityTransformStream();
    const metered = drain(copy, env.COPY_READ);
    ctx.waitUntil(relay(toClient, writable, metered));
    return new Response(readable, answer);
  },
};
