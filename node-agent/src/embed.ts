// The agent's serving side as a library, for running a node inside another process (the Workers-runtime tests'
// fleet, benchmarks). The CLI (`cli.ts`) is the way to run a real node.
export { createAgentServer, type AgentServer } from "./server/agent-server.js";
export { UpstreamProxy, type ProxyOptions } from "./server/upstream-proxy.js";
export { ReceiptSigner, type AnsweredRequest, type ReceiptIssuer } from "./receipts/receipt-signer.js";
export { NonceWindow } from "./server/nonce-window.js";
export { gatewayKeyVerifier } from "./gateway/gateway-verifier.js";
export { answerChallenge, type EndpointProver } from "./server/endpoint-proof.js";
export { identityFromSecretKey, type NodeIdentity } from "./identity/node-identity.js";
export { readKeyFile } from "./identity/key-file.js";
