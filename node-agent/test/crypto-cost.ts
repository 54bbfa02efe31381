// Why the agent signs and verifies with node:crypto and hashes synchronously: the per-request cost of each choice
// (every answer's receipt is signed, every dispatch verified).
// Run: node --import tsx node-agent/test/crypto-cost.ts
import { createHash, createPrivateKey, createPublicKey, sign, verify, webcrypto } from "node:crypto";
import * as ed from "@noble/ed25519";

const secret = ed.utils.randomSecretKey();
const publicKey = await ed.getPublicKeyAsync(secret);
const message = new Uint8Array(300).fill(7);
const signature = await ed.signAsync(message, secret);
const nativeSecret = createPrivateKey({
  key: {
    kty: "OKP",
    crv: "Ed25519",
    d: Buffer.from(secret).toString("base64url"),
    x: Buffer.from(publicKey).toString("base64url"),
  },
  format: "jwk",
});
const nativeKey = createPublicKey({
  key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
  format: "jwk",
});
const body = new Uint8Array(600).fill(1);

async function time(name: string, runs: number, fn: () => unknown): Promise<void> {
  for (let i = 0; i < 50; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await fn();
  const micros = Number(process.hrtime.bigint() - start) / runs / 1000;
  process.stdout.write(`${name.padEnd(36)} ${micros.toFixed(1)} µs\n`);
}

await time("@noble/ed25519 sign", 300, () => ed.signAsync(message, secret));
await time("node:crypto Ed25519 sign", 3000, () => sign(null, message, nativeSecret));
await time("@noble/ed25519 verify (zip215: false)", 300, () =>
  ed.verifyAsync(signature, message, publicKey, { zip215: false }),
);
await time("node:crypto Ed25519 verify", 3000, () => verify(null, message, nativeKey, signature));
await time("WebCrypto SHA-256 (600 B)", 3000, () => webcrypto.subtle.digest("SHA-256", body));
await time("node:crypto SHA-256 (600 B)", 3000, () => createHash("sha256").update(body).digest());
