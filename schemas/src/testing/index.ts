// Test support shared by every package's tests (import "@meshgate/schemas/testing"): published vectors and
// re-encoded signatures that a lax verifier would accept.
export { hexToBytes, RFC8032_VECTORS, RFC9421_B26 } from "../signing/test-vectors.js";
export { malleateSignature, nonCanonicalSignatureHeader } from "./malleability.js";
