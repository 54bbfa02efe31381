// Relay variant: the body is teed; the client's branch is piped natively into an identity stream the Worker still
// holds (so it can add an event and close it after the pipe ends), and JavaScript reads the copy (copy-read.ts).
import { fetchBackend } from "./backend.js";
import { drain, type CopyRead } from "./copy-read.js";

interface FloorEnv {
  BACKEND_URL: string;
  COPY_READ: CopyRead;
}

const trailer = new TextEncoder().encode(": relayed\n\n");

async function relay(
  toClient: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  metered: Promise<void>,
): Promise<void> {
  await toClient.pipeTo(writable, { preventClose: true });
  await metered;
  const writer = writable.getWriter();
  await writer.write(trailer);
  await writer.close();
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const answer = await fetchBackend(request, env.BACKEND_URL);
    if (!answer.body) return answer;
    const [toClient, copy] = answer.body.tee();
    const { readable, writable } = new IdentityTransformStream();
    const metered = drain(copy, env.COPY_READ);
    ctx.waitUntil(relay(toClient, writable, metered));
    return new Response(readable, answer);
  },
};
