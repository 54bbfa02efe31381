// What each measured path is sent. Every target gets the same chat request, so the backend does the same work in
// each; only the hops in front of it differ.
import { jwkThumbprint, webCryptoSignerFromSeed } from "@meshgate/schemas";
import { signGatewayRequest } from "@meshgate/schemas/testing";
import type { Probe } from "./load.js";
import type { Target } from "./phases.js";

export const CHAT_PATH = "/v1/chat/completions";
export const MODEL = "sim-small";

const messages = [{ role: "user", content: "Say hello to the benchmark." }];
/** Between streamed chunks: long enough that a buffering hop would visibly delay the first byte. */
export const STREAM_TOKEN_INTERVAL_MS = 5;
/** The simulated backend's pace for one request (its `sim_token_interval_ms`), passed through every hop. */
const pace = { sim_token_interval_ms: STREAM_TOKEN_INTERVAL_MS };
/**
 * Non-streamed and streamed bodies; the simulated model answers 16 tokens either way (16 chunks when streamed). Only
 * the timed streams are paced: Meshgate asks a node for a stream even for a non-streamed request, which the backend
 * then answers at once, as it answers the other paths' non-streamed requests.
 */
const PLAIN_BODY = Buffer.from(JSON.stringify({ model: MODEL, messages }));
const STREAM_BODY = Buffer.from(JSON.stringify({ model: MODEL, messages, stream: true, ...pace }));
/** What the gateway forwards for a streamed request: it always asks the node for usage, to meter every token. */
const NODE_STREAM_BODY = Buffer.from(
  JSON.stringify({ model: MODEL, messages, stream: true, ...pace, stream_options: { include_usage: true } }),
);

/** A target that takes the same request every time (the backend, the bare Worker, the gateway). */
export function plainTarget(id: Target["id"], label: string, baseUrl: string, apiKey: string): Target {
  // The same headers everywhere (the backend and bare Worker ignore the key) so request sizes are identical.
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  const plain: Probe = { url: baseUrl + CHAT_PATH, headers, body: PLAIN_BODY };
  const streamed: Probe = { url: baseUrl + CHAT_PATH, headers, body: STREAM_BODY, countEvents: true };
  return {
    id,
    label,
    probes: (count, stream) => Promise.resolve(new Array<Probe>(count).fill(stream ? streamed : plain)),
  };
}

/**
 * The node agent on its own, called as the gateway calls it: each request signed with the gateway's key (and a fresh
 * nonce, as the agent refuses replays). Signing happens for the whole batch before the clock starts, so the client's
 * signing cost stays out of the agent's numbers; signatures live for 30 s (signRequest's default), longer than any phase.
 */
export async function signedAgentTarget(agentUrl: string, agentNodeId: string, gatewaySeed: string): Promise<Target> {
  const { signer } = await webCryptoSignerFromSeed(gatewaySeed, jwkThumbprint);
  const url = agentUrl + CHAT_PATH;
  let n = 0;
  const signed = async (body: Buffer, countEvents: boolean): Promise<Probe> => {
    const headers = await signGatewayRequest({ url, body, signer, nodeId: agentNodeId, requestId: `req_bench${++n}` });
    return { url, headers: Object.fromEntries(headers), body, countEvents };
  };
  return {
    id: "agent",
    label: "node agent (signed)",
    probes: async (count, stream) => {
      const probes: Probe[] = [];
      for (let i = 0; i < count; i++) probes.push(await signed(stream ? NODE_STREAM_BODY : PLAIN_BODY, stream));
      return probes;
    },
  };
}
