// Answers the gateway's proof-of-endpoint challenge: "node N answers at URL U" signed with N's current key. The
// request was already authenticated as the gateway's and addressed to this node; the URL must be the one this node
// advertises, so the node never vouches for an address it does not serve.
import { EndpointChallengeSchema, endpointProofStatement, toBase64Url, type EndpointProof } from "@meshgate/schemas";
import type { NodeIdentity } from "../identity/node-identity.js";

export interface EndpointProver {
  /** The identity signing right now (it changes after a key rotation). */
  identity(): NodeIdentity;
  publicUrl: string;
}

export type ChallengeAnswer =
  | { ok: true; proof: EndpointProof }
  | { ok: false; status: 400 | 403; code: string; message: string };

export async function answerChallenge(body: Uint8Array, prover: EndpointProver): Promise<ChallengeAnswer> {
  let parsed: ReturnType<typeof EndpointChallengeSchema.safeParse>;
  try {
    parsed = EndpointChallengeSchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
  } catch {
    return { ok: false, status: 400, code: "invalid_json", message: "The challenge is not JSON." };
  }
  if (!parsed.success)
    return { ok: false, status: 400, code: "invalid_challenge", message: "The body is not an endpoint challenge." };
  const challenge = parsed.data;
  const identity = prover.identity();
  if (challenge.node_id !== identity.nodeId)
    return { ok: false, status: 403, code: "wrong_node", message: "This challenge is for another node." };
  if (challenge.url !== prover.publicUrl)
    return { ok: false, status: 403, code: "wrong_url", message: "This node does not advertise that URL." };
  const signature = await identity.signer.sign(endpointProofStatement(challenge));
  return {
    ok: true,
    proof: {
      object: "endpoint_proof",
      node_id: identity.nodeId,
      keyid: identity.signer.keyId,
      signature: toBase64Url(signature),
    },
  };
}
