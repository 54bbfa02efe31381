import { toBase64Url } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { KEY_INDEX_SHARDS, keyShardOf, legacyPointerShardOf } from "./key-shard.js";
import { importKeySecret, keyIdOf, mintToken, parseToken, verifyTag } from "./key-token.js";

const SECRET = toBase64Url(new Uint8Array(32).fill(7));
const OTHER_SECRET = toBase64Url(new Uint8Array(32).fill(8));
const idBytes = new Uint8Array(9).map((_, i) => i + 1);
const secretBytes = new Uint8Array(32).map((_, i) => 255 - i);

async function accepted(secret: string, token: string): Promise<boolean> {
  const key = await importKeySecret(secret);
  const parsed = parseToken(token);
  return key !== null && parsed.kind === "new" && (await verifyTag(key, parsed));
}

describe("API key tokens", () => {
  it("round-trip: the token names its key id and its tag verifies", async () => {
    const key = (await importKeySecret(SECRET))!;
    const token = await mintToken(key, idBytes, secretBytes);
    expect(token).toMatch(/^mg2-[A-Za-z0-9_-]{76}$/);
    expect(parseToken(token)).toMatchObject({ kind: "new", id: keyIdOf(idBytes) });
    expect(keyIdOf(idBytes)).toMatch(/^key_[A-Za-z0-9_-]{12}$/);
    expect(await accepted(SECRET, token)).toBe(true);
  });

  it("refuse a token with any one bit flipped, in the id, the secret or the tag", async () => {
    const token = await mintToken((await importKeySecret(SECRET))!, idBytes, secretBytes);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (let i = 4; i < token.length; i++) {
      for (const bit of [1, 2, 4, 8, 16, 32]) {
        const flipped = alphabet[alphabet.indexOf(token[i]!) ^ bit]!;
        const forged = token.slice(0, i) + flipped + token.slice(i + 1);
        expect(await accepted(SECRET, forged), `char ${i} bit ${bit}`).toBe(false);
      }
    }
  });

  it("refuse a token minted under another secret", async () => {
    const token = await mintToken((await importKeySecret(OTHER_SECRET))!, idBytes, secretBytes);
    expect(await accepted(OTHER_SECRET, token)).toBe(true);
    expect(await accepted(SECRET, token)).toBe(false);
  });

  it("tell legacy keys and junk apart from new tokens", () => {
    expect(parseToken(`mg-${"A".repeat(43)}`)).toEqual({ kind: "legacy" });
    for (const junk of [
      "",
      "mg-abc",
      `mg-${"A".repeat(44)}`,
      `mg2-${"A".repeat(75)}`,
      `mg2-${"A".repeat(75)}=`,
      "sk-x",
    ])
      expect(parseToken(junk).kind, junk).toBe("malformed");
  });

  it("need a secret of at least 32 bytes", async () => {
    expect(await importKeySecret(undefined)).toBeNull();
    expect(await importKeySecret("")).toBeNull();
    expect(await importKeySecret(toBase64Url(new Uint8Array(31)))).toBeNull();
    expect(await importKeySecret("not base64!")).toBeNull();
    expect(await importKeySecret(SECRET)).not.toBeNull();
  });
});

describe("key shards", () => {
  it("are stable functions of the id and of a legacy token's hash", () => {
    // Pinned: a different answer would orphan every stored key.
    expect(keyShardOf("key_AAAAAAAAAAAA")).toBe(keyShardOf("key_AAAAAAAAAAAA"));
    expect([keyShardOf("key_old"), keyShardOf("key_AAAAAAAAAAAA")]).toEqual([90, 101]);
    expect(legacyPointerShardOf("ff00")).toBe(255);
    expect(legacyPointerShardOf("0a99")).toBe(10);
  });

  it("spread ids over every shard", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 5_000; i++) seen.add(keyShardOf(`key_${i.toString(36).padStart(12, "0")}`));
    expect(seen.size).toBe(KEY_INDEX_SHARDS);
  });
});
