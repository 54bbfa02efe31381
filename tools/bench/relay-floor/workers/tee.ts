// Relay variant: the runtime relays the body natively (tee); JavaScript reads the copy as COPY_READ says
// (copy-read.ts).
import { fetchBackend } from "./backend.js";
import { drain, type CopyRead } from "./copy-read.js";

interface FloorEnv {
  BACKEND_URL: string;
  COPY_READ: CopyRead;
}

export default {
  async fetch(request: Request, env: FloorEnv, ctx: ExecutionContext): Promise<Response> {
    const answer = await fetchBackend(request, env.BACKEND_URL);
    if (!answer.body) return answer;
    const [toClient, copy] = answer.body.tee();
    ctx.waitUntil(drain(copy, env.COPY_READ));
    return new Response(toClient, answer);
  },
};
