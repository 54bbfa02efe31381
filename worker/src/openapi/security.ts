// Who may call what (components/securitySchemes): clients with an API key, the operator with the admin token, nodes
// with RFC 9421 signatures by their Ed25519 key; the public routes need nothing.
import { NODE_KEY_HEADER } from "@meshgate/schemas";

export type Auth = "apiKey" | "admin" | "node" | "public";

export const SECURITY_SCHEMES = {
  apiKey: {
    type: "http",
    scheme: "bearer",
    description: "An API key (`mg-…`) made by `POST /admin/keys`, as `Authorization: Bearer <key>`.",
  },
  admin: {
    type: "http",
    scheme: "bearer",
    description: "The operator's `ADMIN_TOKEN`, as `Authorization: Bearer <token>`.",
  },
  node: {
    type: "apiKey",
    in: "header",
    name: "Signature",
    description: `An RFC 9421 HTTP message signature by the node's Ed25519 key: \`Signature\` and \`Signature-Input\` (covering \`@method\`, \`@authority\`, \`@path\` and \`content-digest\`, with \`created\`, \`expires\`, \`nonce\`, \`alg\` \`ed25519\` and \`keyid\`, the key's RFC 7638 thumbprint), \`Content-Digest\` (RFC 9530, SHA-256 of the body) and \`${NODE_KEY_HEADER}\` (the public key, base64url). Signatures are accepted 60 s at most and each nonce once. The node agent signs for you.`,
  },
} as const;

/** An operation's security requirement: none for the public routes. */
export function securityOf(auth: Auth): Record<string, string[]>[] {
  return auth === "public" ? [] : [{ [auth]: [] }];
}
