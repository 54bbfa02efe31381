import { describe, expect, it } from "vitest";
import { toBase64Url } from "../signing/base64.js";
import { webCryptoSignerFromSeed, webCryptoVerify } from "../signing/ed25519-webcrypto.js";
import { jwkThumbprint } from "../signing/jwk.js";
import { hexToBytes, RFC8032_VECTORS } from "../signing/test-vectors.js";
import { toHex } from "./merkle.js";
import {
  settlementStatementBytes,
  SettlementStatementSchema,
  type SettlementNode,
  type UnsignedStatement,
} from "./statement.js";

const GATEWAY_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
const A: SettlementNode = {
  node_id: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  receipts: 1,
  prompt_tokens: 12,
  completion_tokens: 34,
  amount: 500,
  root: "0xd2dbf006f96dd05044a8f63d8f118f23925ba4cc5750f8b6c8e287fd506c8188",
};
const K: SettlementNode = {
  node_id: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
  receipts: 2,
  prompt_tokens: 100,
  completion_tokens: 0,
  amount: 30,
  root: "0x70eec33ec1e55edcf6150a2d90fc8f3e8441ebbecbcf9afb84fcb7a8b512a72e",
};
const UNSIGNED: UnsignedStatement = {
  object: "settlement",
  id: "stl_0123456789abcdef",
  from: 1_799_996_400_000,
  to: 1_800_000_000_000,
  created: 1_800_000_600_000,
  receipts: 3,
  amount: 530,
  merkle_root: "0x3ac457d4e141e07e07c5a71b7a0defdfb2512ad16eb14988d2ba9779312e7566",
  // Deliberately not in node id order: the bytes sort them.
  nodes: [K, A],
  key_id: GATEWAY_KID,
};
const BYTES =
  '["meshgate-settlement-v1","stl_0123456789abcdef",1799996400000,1800000000000,1800000600000,3,530,' +
  '"0x3ac457d4e141e07e07c5a71b7a0defdfb2512ad16eb14988d2ba9779312e7566",' +
  '[["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",1,12,34,500,"0xd2dbf006f96dd05044a8f63d8f118f23925ba4cc5750f8b6c8e287fd506c8188"],' +
  '["kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",2,100,0,30,"0x70eec33ec1e55edcf6150a2d90fc8f3e8441ebbecbcf9afb84fcb7a8b512a72e"]],' +
  '"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"]';
// node:crypto's Ed25519 signature of BYTES with the RFC 8032 TEST 1 seed.
const SIGNATURE =
  "94a4ef6194b14b6976dd7a5af550e242254c209609ec5b73548eaf9d132d6ed96f0d5ab04ae2fbc995e508eefa9394dd4dab13df6889bc2ce31a31b5ed7ce402";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("settlement statement bytes", () => {
  it("are exactly the pinned vector, nodes sorted by id", () => {
    expect(text(settlementStatementBytes(UNSIGNED))).toBe(BYTES);
  });

  it("do not depend on the order the nodes are listed in", () => {
    expect(text(settlementStatementBytes({ ...UNSIGNED, nodes: [A, K] }))).toBe(BYTES);
  });

  it("leave out the signature and change with every signed field", () => {
    const signed = { ...UNSIGNED, signature: "whatever" };
    expect(text(settlementStatementBytes(signed))).toBe(BYTES);
    const changes: Partial<UnsignedStatement>[] = [
      { id: "stl_other" },
      { from: UNSIGNED.from + 1 },
      { to: UNSIGNED.to + 1 },
      { created: UNSIGNED.created + 1 },
      { receipts: 4 },
      { amount: 531 },
      { merkle_root: `0x${"00".repeat(32)}` },
      { nodes: [A] },
      { nodes: [{ ...A, amount: 501 }, K] },
      { key_id: "another-key" },
    ];
    for (const change of changes) expect(text(settlementStatementBytes({ ...UNSIGNED, ...change }))).not.toBe(BYTES);
  });

  it("sign to the pinned signature with the RFC 8032 TEST 1 seed, which verifies with its public key", async () => {
    const { signer, publicKey } = await webCryptoSignerFromSeed(
      toBase64Url(hexToBytes(RFC8032_VECTORS[0].seed)),
      jwkThumbprint,
    );
    expect(signer.keyId).toBe(GATEWAY_KID);
    const signature = await signer.sign(settlementStatementBytes(UNSIGNED));
    expect(toHex(signature)).toBe(`0x${SIGNATURE}`);
    expect(await webCryptoVerify(publicKey, signature, settlementStatementBytes({ ...UNSIGNED, nodes: [A, K] }))).toBe(
      true,
    );
    expect(await webCryptoVerify(publicKey, signature, settlementStatementBytes({ ...UNSIGNED, amount: 529 }))).toBe(
      false,
    );
  });

  it("the signed statement matches its schema", () => {
    const statement = { ...UNSIGNED, signature: toBase64Url(hexToBytes(SIGNATURE)) };
    expect(SettlementStatementSchema.parse(statement)).toEqual(statement);
    expect(SettlementStatementSchema.safeParse({ ...statement, merkle_root: "0xABC" }).success).toBe(false);
  });
});
