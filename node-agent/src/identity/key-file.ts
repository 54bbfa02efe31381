// The node's key on disk: a private Ed25519 JWK (RFC 8037) plus the node id, owner-only (0600), never silently
// replaced. `kid` is the key's thumbprint; `node_id` is absent or equal to it until the first rotation.
import { randomBytes } from "node:crypto";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { fromBase64, NodeIdSchema, toBase64Url } from "@meshgate/schemas";
import { z } from "zod";
import { identityFromSecretKey, type NodeIdentity } from "./node-identity.js";

export const DEFAULT_KEY_FILE = "./node-key.json";

const PrivateJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  d: z.string(),
  x: z.string(),
  node_id: NodeIdSchema.optional(),
});

export class KeyFileExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} already exists; pass --force to replace it (the old node id is lost)`);
  }
}

export async function readKeyFile(path: string): Promise<NodeIdentity> {
  let jwk: z.infer<typeof PrivateJwkSchema>;
  try {
    jwk = PrivateJwkSchema.parse(JSON.parse(await readFile(path, "utf8")));
  } catch (err) {
    if (err instanceof Error && "code" in err) throw err;
    throw new Error(`${path} is not an Ed25519 private JWK ({"kty":"OKP","crv":"Ed25519","d":...,"x":...})`);
  }
  const secretKey = fromBase64(jwk.d);
  if (secretKey?.length !== 32) throw new Error(`${path}: "d" must be a 32-byte base64url key`);
  const identity = await identityFromSecretKey(secretKey, jwk.node_id);
  if (identity.publicKey !== jwk.x)
    throw new Error(`${path}: "x" does not match the private key "d"; the file is corrupt`);
  return identity;
}

function serialize(identity: NodeIdentity): string {
  const jwk = {
    kty: "OKP",
    crv: "Ed25519",
    kid: identity.signer.keyId,
    d: toBase64Url(identity.secretKey),
    x: identity.publicKey,
    node_id: identity.nodeId,
  };
  return `${JSON.stringify(jwk, null, 2)}\n`;
}

/** Creates the file with mode 0600. Without `force` an existing file is an error; with it, replaced atomically. */
export async function writeKeyFile(path: string, identity: NodeIdentity, options: { force: boolean }): Promise<void> {
  if (!options.force) {
    try {
      await writeFile(path, serialize(identity), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if (err instanceof Error && "code" in err && err.code === "EEXIST") throw new KeyFileExistsError(path);
      throw err;
    }
    return;
  }
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, serialize(identity), { mode: 0o600, flag: "wx" });
  await rename(temp, path);
}

/** True when group or others can read the key, which an operator should fix. */
export async function keyFileIsExposed(path: string): Promise<boolean> {
  return ((await stat(path)).mode & 0o077) !== 0;
}
