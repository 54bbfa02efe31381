// What each measured path is sent. Every target gets the same chat request, so the backend does the same work in
// each; only the hops in front of it differ.
import { jwkThumbprint, webCryptoSignerFromSeed } from "@meshgate/schemas";
import { signGatewayRequest } from "@meshgate/schemas/testing";
import type { Probe } from "./load.js";
import type { Target, TargetId } from "./phases.js";

export const CHAT_PATH = "/v1/chat/completions";
export const MODEL = "sim-small";

const messages = [{ role: "user", content: "Say hello to the benchmark." }];
/** Between streamed chunks: long enough that a buffering hop would visibly delay the first byte. */
export const STREAM_TOKEN_INTERVAL_MS = 5;
/** The simulated backend's pace for one request (its `sim_token_interval_ms`), passed through every hop. */
const pace = { sim_token_interval_ms: STREAM_TOKEN_INTERVAL_MS };
/**
 * Served by both the direct and the session agent (sim-small by the direct one only, so every other phase routes as
 * it did before the session agent existed); session-vs-direct.ts pins each request to one of them.
 */
export const PAIR_MODEL = "sim-pair";

/**
 * Non-streamed and streamed bodies; the simulated model answers 16 tokens either way (16 chunks when streamed). Only
 * the timed streams are paced: Meshgate asks a node for a stream even for a non-streamed request, which the backend
 * then answers at once, as it answers the other paths' non-streamed requests. `pin`: `provider.only`, which the
 * gateway strips before forwarding.
 */
function chatBodies(model: string, pin?: string): { plain: Buffer; streamed: Buffer } {
  const provider = pin === undefined ? {} : { provider: { only: [pin] } };
  return {
    plain: Buffer.from(JSON.stringify({ model, messages, ...provider })),
    streamed: Buffer.from(JSON.stringify({ model, messages, stream: true, ...pace, ...provider })),
  };
}
const { plain: PLAIN_BODY } = chatBodies(MODEL);
/** What the gateway forwards for a streamed request: it always asks the node for usage, to meter every token. */
const NODE_STREAM_BODY = Buffer.from(
  JSON.stringify({ model: MODEL, messages, stream: true, ...pace, stream_options: { include_usage: true } }),
);

/** What is checked or kept of each answer: the node that must answer, and whether to keep its Server-Timing. */
type AnswerChecks = Pick<Probe, "expectNode" | "keepServerTiming">;

function fixedTarget<Id extends string>(
  id: Id,
  label: string,
  url: string,
  apiKey: string,
  bodies: ReturnType<typeof chatBodies>,
  checks: AnswerChecks = {},
): Target<Id> {
  // The same headers everywhere (the backend and bare Worker ignore the key) so request sizes are identical.
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
  const plain: Probe = { url, headers, body: bodies.plain, ...checks };
  const streamed: Probe = { url, headers, body: bodies.streamed, countEvents: true, ...checks };
  return {
    id,
    label,
    probes: (count, stream) => Promise.resolve(new Array<Probe>(count).fill(stream ? streamed : plain)),
  };
}

/**
 * A target that takes the same request every time (the backend, the bare Worker, the gateway). `expectNode`: the
 * node that must answer each request through the gateway (checked, not requested).
 */
export function plainTarget(id: TargetId, label: string, baseUrl: string, apiKey: string, expectNode?: string): Target {
  const checks = expectNode === undefined ? {} : { expectNode };
  return fixedTarget(id, label, baseUrl + CHAT_PATH, apiKey, chatBodies(MODEL), checks);
}

/**
 * The gateway, each answer checked to come from `nodeId`. `pinned`: the request names it with `provider.only` and asks
 * for PAIR_MODEL, which several nodes serve; otherwise it asks for MODEL as `plainTarget` does. `keepServerTiming`: for
 * the gateway's own breakdown of each request (isolates-bench.ts reads its `admit` entry).
 */
export function gatewayTarget<Id extends string>(
  id: Id,
  label: string,
  gatewayUrl: string,
  apiKey: string,
  nodeId: string,
  opts: { pinned: boolean; keepServerTiming?: boolean },
): Target<Id> {
  const bodies = opts.pinned ? chatBodies(PAIR_MODEL, nodeId) : chatBodies(MODEL);
  const checks = { expectNode: nodeId, ...(opts.keepServerTiming ? { keepServerTiming: true } : {}) };
  return fixedTarget(id, label, gatewayUrl + CHAT_PATH, apiKey, bodies, checks);
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
