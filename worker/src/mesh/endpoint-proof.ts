// Proof of endpoint: before a node gets traffic, the gateway POSTs a signed challenge to the node's advertised URL
// and the node must sign it back with its own key. Someone registering another party's server cannot answer.
import {
  DISPATCH_NODE_HEADER,
  ENDPOINT_PROOF_PATH,
  EndpointProofSchema,
  endpointProofStatement,
  fromBase64,
  signRequest,
  toBase64Url,
  utf8,
  webCryptoVerify,
  type EndpointChallenge,
  type Signer,
} from "@meshgate/schemas";
import { nodeRegistry } from "../durable/names.js";
import { readChunks } from "../http/json-body.js";
import { gatewayIdentity } from "./gateway-identity.js";
import { invalidateNodeSnapshot } from "./node-snapshot.js";

export const CHALLENGE_TIMEOUT_MS = 5_000;
const MAX_PROOF_BYTES = 4096;

export interface ChallengedNode {
  id: string;
  url: string;
  publicKey: string;
  keyId: string;
}

export type ProofOutcome = { ok: true } | { ok: false; reason: string };

/** Sends the challenge and checks the answer; `fetcher` is the network (tests pass their own). */
export async function challengeNode(
  node: ChallengedNode,
  signer: Signer,
  now: number,
  fetcher: typeof fetch = fetch,
): Promise<ProofOutcome> {
  const challenge: EndpointChallenge = {
    node_id: node.id,
    url: node.url,
    challenge: toBase64Url(crypto.getRandomValues(new Uint8Array(32))),
  };
  const target = new URL(ENDPOINT_PROOF_PATH, new URL(node.url).origin).href;
  const body = utf8(JSON.stringify(challenge));
  const headers = new Headers({ "content-type": "application/json", [DISPATCH_NODE_HEADER]: node.id });
  await signRequest({
    method: "POST",
    url: target,
    headers,
    body,
    signer,
    now,
    extraComponents: [DISPATCH_NODE_HEADER],
  });
  let response: Response;
  try {
    // No redirects: a node must not be able to point the gateway somewhere else.
    response = await fetcher(target, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(CHALLENGE_TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, reason: `unreachable (${err instanceof Error ? err.message : String(err)})` };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { ok: false, reason: `answered ${response.status}` };
  }
  // The answer comes from a URL the node chose: read at most a few KiB of it, never an endless stream.
  let parsed: ReturnType<typeof EndpointProofSchema.safeParse>;
  try {
    const bytes = response.body ? await readChunks(response.body, MAX_PROOF_BYTES) : new Uint8Array();
    parsed = EndpointProofSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return { ok: false, reason: "answer is not a small JSON document" };
  }
  if (!parsed.success) return { ok: false, reason: "answer is not an endpoint proof" };
  const proof = parsed.data;
  if (proof.node_id !== node.id || proof.keyid !== node.keyId)
    return { ok: false, reason: "answered for another node or key" };
  const signature = fromBase64(proof.signature);
  if (!signature || !(await webCryptoVerify(node.publicKey, signature, endpointProofStatement(challenge)))) {
    return { ok: false, reason: "signature does not verify" };
  }
  return { ok: true };
}

/** Challenges the node and records the result; runs in `waitUntil`, so it never throws. */
export async function proveEndpoint(env: Env, node: ChallengedNode): Promise<void> {
  try {
    const { signer } = await gatewayIdentity(env);
    const outcome = await challengeNode(node, signer, Date.now());
    if (!outcome.ok) {
      console.warn("endpoint proof failed", { node: node.id, url: node.url, reason: outcome.reason });
      return;
    }
    if (await nodeRegistry(env).endpointProven(node.id, node.url, node.keyId, Date.now())) invalidateNodeSnapshot();
    else
      console.warn("endpoint proof not recorded: the node's URL or key changed, or its origin is full", {
        node: node.id,
        url: node.url,
      });
  } catch (err) {
    console.error("endpoint proof error", { node: node.id, error: err instanceof Error ? err.message : String(err) });
  }
}
