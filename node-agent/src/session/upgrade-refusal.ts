// The gateway refused to open the session: its answer to the upgrade is an ordinary HTTP error (OpenAI's error shape),
// read the way every other gateway refusal is, so the log says why and a revoked key is recognised.
import type { IncomingMessage } from "node:http";
import { readErrorResponse, type GatewayError } from "../gateway/error-response.js";

const MAX_REFUSAL_BYTES = 16 * 1024;
const READ_TIMEOUT_MS = 5_000;

/** The refusal's status, code and description; the body is read up to a bound, and for a bounded time. */
export async function readUpgradeRefusal(res: IncomingMessage): Promise<GatewayError> {
  const text = await readBounded(res);
  const status = res.statusCode ?? 0;
  try {
    return await readErrorResponse(new Response(text, { status }));
  } catch {
    // A status a fetch Response cannot hold (1xx, 204, 304 with a body): the status alone says it.
    return { status, code: null, description: `${status}` };
  }
}

function readBounded(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      res.destroy();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(done, READ_TIMEOUT_MS);
    res.on("data", (chunk: Buffer) => {
      chunks.push(chunk.subarray(0, MAX_REFUSAL_BYTES - size));
      size += chunk.length;
      if (size >= MAX_REFUSAL_BYTES) done();
    });
    res.once("end", done);
    res.once("error", done);
    res.once("close", done);
  });
}
