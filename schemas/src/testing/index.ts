// Test support shared by every package's tests (import "@meshgate/schemas/testing"): published vectors, re-encoded
// signatures that a lax verifier would accept, node identities, and requests signed as a node or as the gateway.
export { hexToBytes, RFC8032_VECTORS, RFC9421_B26 } from "../signing/test-vectors.js";
export { malleateSignature, nonCanonicalSignatureHeader } from "./malleability.js";
export {
  jsonBody,
  signGatewayRequest,
  signNodeRequest,
  signSessionUpgrade,
  type GatewaySigning,
  type NodeSigning,
} from "./request-signers.js";
export { newTestNode, type TestIdentity } from "./test-node.js";
export { OpenAIErrorBodySchema, openAIErrorProblem, parseOpenAIError } from "./openai-error.js";
