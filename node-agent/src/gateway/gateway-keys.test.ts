import { describe, expect, it } from "vitest";
import {
  jwkThumbprint,
  newSeed,
  publicJwk,
  utf8,
  webCryptoSignerFromSeed,
  type GatewayKey,
  type GatewayMetadata,
} from "@meshgate/schemas";
import { captureLog } from "../../test/log-capture.js";
import { GatewayKeySet } from "./gateway-keys.js";

async function key(status: GatewayKey["status"] = "current", notAfter: number | null = null) {
  const { signer, publicKey } = await webCryptoSignerFromSeed(newSeed(), jwkThumbprint);
  const published: GatewayKey = {
    kid: signer.keyId,
    alg: "ed25519",
    jwk: publicJwk(publicKey),
    status,
    not_after: notAfter === null ? null : new Date(notAfter).toISOString(),
  };
  return { signer, published };
}

function metadata(...keys: GatewayKey[]): GatewayMetadata {
  return {
    issuer: "meshgate",
    keys,
    heartbeat_path: "/v1/nodes/heartbeat",
    heartbeat_interval_ms: 2000,
    node_ttl_ms: 10_000,
  };
}

const data = utf8("signature base");

describe("GatewayKeySet", () => {
  it("verifies with any published key and says null for a key it does not know", async () => {
    const current = await key();
    const previous = await key("previous");
    const keys = new GatewayKeySet(
      { fetchMetadata: () => Promise.reject(new Error("offline")), log: captureLog().log },
      metadata(current.published, previous.published),
    );
    expect(await keys.verifier(current.signer.keyId, data, await current.signer.sign(data))).toBe(true);
    expect(await keys.verifier(previous.signer.keyId, data, await previous.signer.sign(data))).toBe(true);
    expect(await keys.verifier(current.signer.keyId, data, await previous.signer.sign(data))).toBe(false);
    expect(await keys.verifier("unknown", data, await current.signer.sign(data))).toBeNull();
  });

  it("refetches once on an unknown keyid (the gateway rotated) and then accepts the new key", async () => {
    const old = await key();
    const rotated = await key();
    let fetches = 0;
    const keys = new GatewayKeySet(
      {
        fetchMetadata: async () => {
          fetches++;
          return metadata(rotated.published, { ...old.published, status: "previous" });
        },
        log: captureLog().log,
      },
      metadata(old.published),
    );
    expect(await keys.verifier(rotated.signer.keyId, data, await rotated.signer.sign(data))).toBe(true);
    expect(fetches).toBe(1);
    expect(keys.keyIds()).toEqual([rotated.signer.keyId, old.signer.keyId]);
  });

  it("refetches on demand at most once per interval, however many made-up keyids arrive", async () => {
    const current = await key();
    let now = 1_000_000;
    let fetches = 0;
    const keys = new GatewayKeySet(
      {
        fetchMetadata: async () => {
          fetches++;
          return metadata(current.published);
        },
        log: captureLog().log,
        now: () => now,
        minRefreshIntervalMs: 10_000,
      },
      metadata(current.published),
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => keys.verifier(`made-up-${i}`, data, new Uint8Array(64))));
    expect(fetches).toBe(1);
    now += 5_000;
    await keys.verifier("made-up-again", data, new Uint8Array(64));
    expect(fetches).toBe(1);
    now += 5_000;
    await keys.verifier("made-up-later", data, new Uint8Array(64));
    expect(fetches).toBe(2);
  });

  it("refuses a previous key once its not_after has passed, even before the next refresh", async () => {
    let now = 1_000_000;
    const current = await key();
    const previous = await key("previous", now + 1_000);
    const keys = new GatewayKeySet(
      {
        fetchMetadata: async () => metadata(current.published, previous.published),
        log: captureLog().log,
        now: () => now,
      },
      metadata(current.published, previous.published),
    );
    const signature = await previous.signer.sign(data);
    expect(await keys.verifier(previous.signer.keyId, data, signature)).toBe(true);
    now += 1_000;
    expect(await keys.verifier(previous.signer.keyId, data, signature)).toBeNull();
  });

  it("ignores a published key whose kid is not its thumbprint, and keeps its keys when a refresh fails", async () => {
    const current = await key();
    const liar = await key();
    const log = captureLog();
    const keys = new GatewayKeySet(
      { fetchMetadata: () => Promise.reject(new Error("down")), log: log.log },
      metadata(current.published, { ...liar.published, kid: current.signer.keyId + "x" }),
    );
    expect(keys.keyIds()).toEqual([current.signer.keyId]);
    await keys.refresh();
    expect(keys.keyIds()).toEqual([current.signer.keyId]);
    expect(log.lines.join("\n")).toContain("gateway key refresh failed");
  });
});
