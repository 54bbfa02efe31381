// The key index under attack: random tokens, revocations and limit changes reaching other isolates, legacy keys moved
// into the shards, and a gateway without its API_KEY_SECRET.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { toBase64Url } from "@meshgate/schemas";
import { describe, expect, it, vi } from "vitest";
import { forgetLegacyMoveSeen, lookupKey } from "../src/durable/api-keys/key-index.js";
import { forgetLegacyMoveDone, moveLegacyKeys } from "../src/durable/api-keys/legacy-move.js";
import { CHANGES_TAIL_COUNT, CHANGES_TAIL_MS } from "../src/durable/key-changes/key-changes.js";
import { keyChanges, keyIndexOf, keyIndexRoot } from "../src/durable/names.js";
import { authenticate } from "../src/http/auth.js";
import { HttpError } from "../src/http/http-error.js";
import worker from "../src/index.js";
import { generateLegacyApiKey, hashApiKey } from "../src/keys/api-key.js";
import { KeyCache, type KeySource } from "../src/keys/key-cache.js";
import { keyShardOf, legacyPointerShardOf } from "../src/keys/key-shard.js";
import { parseToken } from "../src/keys/key-token.js";
import { adminFetch, BASE, clientFetch, createApiKey, errorBody } from "./helpers.js";

/** env with its KEYS namespace counted: every object of the index named, by name. */
function countingEnv(): { env: Env; names: string[] } {
  const names: string[] = [];
  const keys = {
    idFromName: (name: string) => {
      names.push(name);
      return env.KEYS.idFromName(name);
    },
    get: (id: DurableObjectId) => env.KEYS.get(id),
  };
  return { env: { ...env, KEYS: keys as unknown as Env["KEYS"] }, names };
}

/** One request through the Worker's own fetch (router, request id, authentication) with `on` as its env. */
async function fetchAs(token: string, on: Env, route: "chat" | "models"): Promise<Response> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const request =
    route === "models"
      ? new Request(`${BASE}/v1/models`, { headers })
      : new Request(`${BASE}/v1/chat/completions`, {
          method: "POST",
          headers,
          body: '{"model":"chat-basic","messages":[{"role":"user","content":"hi"}]}',
        });
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, on, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const bearer = (token: string) => new Request(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${token}` } });

async function refusal(token: string, on: Env): Promise<HttpError | null> {
  try {
    await authenticate(bearer(token), on, Date.now(), createExecutionContext());
    return null;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

function randomText(chars: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(Math.ceil((chars * 3) / 4)))).slice(0, chars);
}

/** Another isolate's key cache, reading the feed's first replica directly (no colo cache: the test sets the clock). */
function otherIsolate(): { cache: KeyCache; identify: (token: string, now: number) => Promise<unknown> } {
  const source: KeySource = {
    lookup: (hash, claimedId) => lookupKey(env, hash, claimedId),
    readChanges: async (now) => ({ ...(await keyChanges(env, 0).read(now)), readAt: now }),
  };
  const cache = new KeyCache(source);
  const identify = async (token: string, now: number) => {
    const parsed = parseToken(token);
    const work: Promise<void>[] = [];
    const found = await cache.identify(token, parsed.kind === "new" ? parsed.id : null, now, (w) => void work.push(w));
    await Promise.all(work);
    return found;
  };
  return { cache, identify };
}

describe("random bearer tokens", () => {
  it("100,000 of them, new-format-looking or junk, are refused through the Worker without reaching the index", async () => {
    const counted = countingEnv();
    const refusedWith = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const token = i % 2 === 0 ? `mg2-${randomText(76)}` : `${randomText(3)}-${randomText(1 + (i % 90))}`;
      const res = await fetchAs(token, counted.env, i % 3 === 0 ? "chat" : "models");
      const code = res.status === 401 ? ((await res.json()) as { error: { code: string } }).error.code : res.status;
      refusedWith.set(String(code), (refusedWith.get(String(code)) ?? 0) + 1);
    }
    expect(Object.fromEntries(refusedWith)).toEqual({ invalid_api_key: 100_000 });
    expect(counted.names).toEqual([]);
    // The counter counts: a real key through the same env names its shard.
    const { id, key } = await createApiKey("control");
    expect((await fetchAs(key, counted.env, "models")).status).toBe(200);
    expect(counted.names).toContain(`keys:${keyShardOf(id)}`);
  }, 300_000);

  it("a real token's tag is checked when the isolate first sees it, not again on every request", async () => {
    const { key } = await createApiKey("tag-once");
    const sign = vi.spyOn(crypto.subtle, "sign");
    try {
      expect((await fetchAs(key, env, "models")).status).toBe(200);
      const first = sign.mock.calls.length;
      expect(first).toBeGreaterThan(0);
      for (let i = 0; i < 3; i++) expect((await fetchAs(key, env, "models")).status).toBe(200);
      expect(sign.mock.calls.length).toBe(first);
      // A forged tag on the same id is still checked, and refused.
      const forged = `${key.slice(0, -4)}${key.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
      expect((await fetchAs(forged, env, "models")).status).toBe(401);
      expect(sign.mock.calls.length).toBe(first + 1);
    } finally {
      sign.mockRestore();
    }
  });

  it("are refused in OpenAI's shape through the Worker", async () => {
    for (const token of [`mg2-${randomText(76)}`, "mg-unknown", randomText(40)]) {
      const res = await clientFetch("/v1/models", token);
      expect(res.status).toBe(401);
      expect(await errorBody(res)).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    }
  });
});

describe("changes reach other isolates through the feed", () => {
  it("a revoked key is refused by an isolate that had it cached, within 2 s", async () => {
    const { id, key } = await createApiKey("revoked-elsewhere");
    const other = otherIsolate();
    const t0 = Date.now();
    expect(await other.identify(key, t0)).toMatchObject({ id });
    expect((await adminFetch(`/admin/keys/${id}`, { method: "DELETE" })).status).toBe(200);
    // Its next feed read (due a second later, beside that request) drops the key; it is never used 2 s stale.
    await other.identify(key, t0 + 1_000);
    expect(await other.identify(key, t0 + 1_001)).toBeNull();
  });

  it("an isolate that heard nothing for 2 s reads the feed before using its copy", async () => {
    const { id, key } = await createApiKey("revoked-while-idle");
    const other = otherIsolate();
    const t0 = Date.now();
    expect(await other.identify(key, t0)).toMatchObject({ id });
    expect((await adminFetch(`/admin/keys/${id}`, { method: "DELETE" })).status).toBe(200);
    expect(await other.identify(key, t0 + 2_500)).toBeNull();
  });

  it("PATCHed limits reach another isolate's cached copy", async () => {
    const { id, key } = await createApiKey("patched-elsewhere");
    const other = otherIsolate();
    const heard: (string | null)[] = [];
    other.cache.onKeyChange((changed) => heard.push(changed));
    const t0 = Date.now();
    expect(await other.identify(key, t0)).toMatchObject({ limits: { rpm: null } });
    const patched = await adminFetch(`/admin/keys/${id}`, { method: "PATCH", body: '{"rpm":7}' });
    expect(patched.status).toBe(200);
    await other.identify(key, t0 + 1_000);
    expect(await other.identify(key, t0 + 1_001)).toMatchObject({ id, limits: { budget: null, rpm: 7, tpm: null } });
    expect(heard).toContain(id);
  });
});

describe("a replica of the key-changes feed", () => {
  it("numbers changes for good and keeps a bounded tail, so a reader can tell it fell behind", async () => {
    const replica = env.KEY_CHANGES.get(env.KEY_CHANGES.idFromName("tail-test"));
    const now = Date.now();
    const ids = Array.from({ length: CHANGES_TAIL_COUNT + 5 }, (_, i) => `key_${i}`);
    expect(await replica.publish(ids, now)).toBe(CHANGES_TAIL_COUNT + 5);
    const read = await replica.read(now);
    expect(read).toMatchObject({ head: CHANGES_TAIL_COUNT + 5, first: 6 });
    expect(read.changes).toHaveLength(CHANGES_TAIL_COUNT);
    // Past the tail's age nothing old is served, and numbering goes on from the head.
    const later = now + CHANGES_TAIL_MS + 1;
    expect(await replica.read(later)).toEqual({
      head: CHANGES_TAIL_COUNT + 5,
      first: CHANGES_TAIL_COUNT + 6,
      changes: [],
    });
    expect(await replica.publish(["key_again"], later)).toBe(CHANGES_TAIL_COUNT + 6);
    expect((await replica.read(later)).changes).toEqual([{ seq: CHANGES_TAIL_COUNT + 6, id: "key_again" }]);
  });
});

describe("a gateway that never had legacy keys", () => {
  it("refuses random legacy-format tokens without reaching any object, once an isolate learnt there are none", async () => {
    forgetLegacyMoveDone();
    forgetLegacyMoveSeen();
    await moveLegacyKeys(env, Date.now());
    const counted = countingEnv();
    expect((await refusal(generateLegacyApiKey(), counted.env))?.status).toBe(401); // learns there are none
    counted.names.length = 0;
    for (let i = 0; i < 100; i++) expect((await refusal(generateLegacyApiKey(), counted.env))?.status).toBe(401);
    expect(counted.names).toEqual([]);
    forgetLegacyMoveSeen();
  });
});

describe("legacy keys", () => {
  it("are moved into the shards and still accepted; a random legacy-format token then costs one shard", async () => {
    const token = generateLegacyApiKey();
    const hash = await hashApiKey(token);
    const id = `key_${randomText(12)}`;
    // As the single object held them before the index.
    const row = { id, name: "old", hash, created: 1, revoked: null, budget: null, rpm: null, tpm: null };
    await keyIndexRoot(env).insert([row]);
    forgetLegacyMoveSeen();
    expect(await lookupKey(env, hash, null)).toMatchObject({ id }); // not moved yet: the root answers

    forgetLegacyMoveDone();
    await moveLegacyKeys(env, Date.now());
    expect((await keyIndexRoot(env).exportBatch(10)).keys).toEqual([]);
    expect(await keyIndexOf(env, id).active(id)).toMatchObject({ id, name: "old" });
    expect((await clientFetch("/v1/usage", token)).status).toBe(200);
    const listed = (await (await adminFetch("/admin/keys")).json()) as { data: { id: string }[] };
    expect(listed.data.map((k) => k.id)).toContain(id);

    // Once an isolate knows the move is over, a legacy-format token it never minted asks one shard, no root.
    const counted = countingEnv();
    await refusal(generateLegacyApiKey(), counted.env); // learns the move is over (or knew)
    counted.names.length = 0;
    const random = generateLegacyApiKey();
    expect((await refusal(random, counted.env))?.status).toBe(401);
    expect(counted.names).toEqual([`keys:${legacyPointerShardOf(await hashApiKey(random))}`]);

    expect((await adminFetch(`/admin/keys/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await clientFetch("/v1/usage", token)).status).toBe(401);
  });
});

describe("without API_KEY_SECRET", () => {
  const call = async (request: Request, on: Env) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, on, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };

  it("refuses to create keys and to judge new-format tokens, saying why; legacy keys keep working", async () => {
    const { key } = await createApiKey("before-the-secret-went");
    const token = generateLegacyApiKey();
    const id = `key_${randomText(12)}`;
    const row = { id, name: "old", hash: await hashApiKey(token), created: 1, revoked: null, budget: null, rpm: null };
    await keyIndexRoot(env).insert([{ ...row, tpm: null }]);
    forgetLegacyMoveDone();
    await moveLegacyKeys(env, Date.now());

    for (const missing of [undefined, "", toBase64Url(new Uint8Array(16))]) {
      const broken = { ...env, API_KEY_SECRET: missing } as unknown as Env;
      const created = await call(
        new Request(`${BASE}/admin/keys`, {
          method: "POST",
          body: '{"name":"x"}',
          headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
        }),
        broken,
      );
      expect(created.status).toBe(500);
      expect(await errorBody(created)).toMatchObject({ type: "api_error", code: "api_key_secret_missing" });
      const used = await call(bearer(key), broken);
      expect(used.status).toBe(500);
      expect((await errorBody(used)).code).toBe("api_key_secret_missing");
      expect((await call(bearer(token), broken)).status).toBe(200);
    }
  });
});
