import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { moveLegacyKeys } from "../src/durable/api-keys/legacy-move.js";
import { keyAccount, keyChanges, keyIndexOf } from "../src/durable/names.js";
import { authenticate } from "../src/http/auth.js";
import worker from "../src/index.js";
import { adminFetch, BASE, clientFetch, createApiKey, errorBody } from "./helpers.js";

describe("/admin/keys", () => {
  it("creates a key shown once, lists it without the secret, and revokes it", async () => {
    const res = await adminFetch("/admin/keys", { method: "POST", body: JSON.stringify({ name: "ci" }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; name: string; key: string; created: number };
    expect(created).toMatchObject({
      name: "ci",
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^mg2-/),
    });
    expect(Math.abs(created.created - Date.now() / 1000)).toBeLessThan(60);

    const listed = await (await adminFetch("/admin/keys")).text();
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.key);

    expect((await clientFetch("/v1/usage", created.key)).status).toBe(200);
    const del = await adminFetch(`/admin/keys/${created.id}`, { method: "DELETE" });
    expect(await del.json()).toEqual({ object: "api_key", id: created.id, deleted: true });
    const refused = await clientFetch("/v1/usage", created.key);
    expect(refused.status).toBe(401);
    expect((await errorBody(refused)).code).toBe("invalid_api_key");
  });

  it("stores only the SHA-256 of the key", async () => {
    const { id, key } = await createApiKey("hashing");
    const stub = keyIndexOf(env, id);
    const { runInDurableObject } = await import("cloudflare:test");
    const stored = await runInDurableObject(stub, (_obj, state) =>
      JSON.stringify(state.storage.sql.exec("SELECT * FROM api_keys").toArray()),
    );
    expect(stored).not.toContain(key);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(stored).toContain(digest);
  });

  it("refuses callers without the admin token, without saying whether a key exists", async () => {
    const { id } = await createApiKey();
    for (const auth of [undefined, "Bearer wrong", `Bearer ${env.ADMIN_TOKEN}x`]) {
      const headers: Record<string, string> = auth ? { authorization: auth } : {};
      const del = await SELF.fetch(`${BASE}/admin/keys/${id}`, { method: "DELETE", headers });
      const missing = await SELF.fetch(`${BASE}/admin/keys/key_nope`, { method: "DELETE", headers });
      expect(del.status).toBe(401);
      expect(missing.status).toBe(401);
      expect(await del.text()).toBe(await missing.text());
    }
  });

  it("answers 404 when revoking an unknown key, and revokes a revoked key again, publishing it again", async () => {
    const { id } = await createApiKey();
    const head = async () => (await keyChanges(env, 0).read(Date.now())).head;
    const before = await head();
    expect((await adminFetch(`/admin/keys/${id}`, { method: "DELETE" })).status).toBe(200);
    expect(await head()).toBe(before + 1);
    // An admin's retry (say after a 500 from a failed publication) tells every isolate again.
    const again = await adminFetch(`/admin/keys/${id}`, { method: "DELETE" });
    expect(await again.json()).toEqual({ object: "api_key", id, deleted: true });
    expect(await head()).toBe(before + 2);
    const unknown = await adminFetch("/admin/keys/key_nope", { method: "DELETE" });
    expect(unknown.status).toBe(404);
    expect((await errorBody(unknown)).code).toBe("key_not_found");
  });

  it("validates the name", async () => {
    for (const body of ["{}", '{"name":""}', '{"name":5}', `{"name":"${"x".repeat(200)}"}`, '{"name":"a","extra":1}']) {
      const res = await adminFetch("/admin/keys", { method: "POST", body });
      expect(res.status).toBe(400);
      const err = await errorBody(res);
      expect(err.type).toBe("invalid_request_error");
    }
    expect((await errorBody(await adminFetch("/admin/keys", { method: "POST", body: "{}" }))).param).toBe("name");
  });
});

describe("/admin/keys limits", () => {
  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const patch = (id: string, body: unknown) => adminFetch(`/admin/keys/${id}`, { method: "PATCH", ...json(body) });

  it("creates a key with limits its account enforces, and lists them", async () => {
    const res = await adminFetch("/admin/keys", {
      method: "POST",
      ...json({ name: "limited", budget: 5_000, rpm: 60, tpm: null }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; budget: number | null; rpm: number | null; tpm: number | null };
    expect(created).toMatchObject({ budget: 5_000, rpm: 60, tpm: null });
    expect(await keyAccount(env, created.id).view(Date.now())).toEqual({
      budget: 5_000,
      rpm: 60,
      tpm: null,
      spent: 0,
      reserved: 0,
    });
    const listed = ((await (await adminFetch("/admin/keys")).json()) as { data: { id: string }[] }).data.find(
      (k) => k.id === created.id,
    );
    expect(listed).toMatchObject({ budget: 5_000, rpm: 60, tpm: null, revoked: null });
    // A key without limits lists nulls.
    const { id } = await createApiKey("unlimited");
    expect(
      ((await (await adminFetch("/admin/keys")).json()) as { data: { id: string }[] }).data.find((k) => k.id === id),
    ).toMatchObject({ budget: null, rpm: null, tpm: null });
  });

  it("changes limits with PATCH (null clears one, absent ones stay) and answers the account's state", async () => {
    const { id } = await createApiKey("patched");
    const first = await patch(id, { budget: 1_000, tpm: 10_000 });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      object: "api_key",
      id,
      name: "patched",
      budget: 1_000,
      rpm: null,
      tpm: 10_000,
      spent: 0,
      reserved: 0,
    });
    expect(await (await patch(id, { budget: null, rpm: 5 })).json()).toMatchObject({
      budget: null,
      rpm: 5,
      tpm: 10_000,
    });
    expect(await keyAccount(env, id).view(Date.now())).toMatchObject({ budget: null, rpm: 5, tpm: 10_000 });
    const listed = ((await (await adminFetch("/admin/keys")).json()) as { data: { id: string }[] }).data.find(
      (k) => k.id === id,
    );
    expect(listed).toMatchObject({ budget: null, rpm: 5, tpm: 10_000 });
  });

  it("tells authentication about new limits at once in this isolate", async () => {
    const { id, key } = await createApiKey("cached");
    const request = () => new Request(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    const now = Date.now();
    expect((await authenticate(request(), env, now, createExecutionContext())).limits).toEqual({
      budget: null,
      rpm: null,
      tpm: null,
    });
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/admin/keys/${id}`, {
        method: "PATCH",
        body: '{"rpm":7}',
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }) as Request<unknown, IncomingRequestCfProperties>,
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    // Same instant: a cached identity would still say unlimited.
    expect((await authenticate(request(), env, now, createExecutionContext())).limits).toEqual({
      budget: null,
      rpm: 7,
      tpm: null,
    });
  });

  it("never leaves the key's copy of its limits less limited than its account, whichever write fails", async () => {
    // Copies of the key's limits written after the account changed fail, as if ApiKeys went down in between.
    let configured = false;
    const { id } = await createApiKey("half-patched");
    await moveLegacyKeys(env, Date.now());
    const keysStub = keyIndexOf(env, id);
    const accounts = {
      idFromName: (name: string) => env.ACCOUNTS.idFromName(name),
      get: (id: DurableObjectId) => {
        const account = env.ACCOUNTS.get(id);
        return {
          configure: async (...args: Parameters<typeof account.configure>) => {
            configured = true;
            return await account.configure(...args);
          },
        };
      },
    };
    const keys = {
      idFromName: (name: string) => env.KEYS.idFromName(name),
      get: () => ({
        active: (id: string) => keysStub.active(id),
        widenLimits: (...args: Parameters<typeof keysStub.widenLimits>) =>
          configured ? Promise.reject(new Error("keys down")) : keysStub.widenLimits(...args),
        setLimits: (...args: Parameters<typeof keysStub.setLimits>) =>
          configured ? Promise.reject(new Error("keys down")) : keysStub.setLimits(...args),
      }),
    };
    const broken = { ...env, ACCOUNTS: accounts as unknown as Env["ACCOUNTS"], KEYS: keys as unknown as Env["KEYS"] };
    const patchWith = async (id: string, body: string) => {
      configured = false;
      const ctx = createExecutionContext();
      const req = new Request(`${BASE}/admin/keys/${id}`, {
        method: "PATCH",
        body,
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      });
      const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, broken, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };

    // A new budget: the account enforces it, so the copy must say there is one.
    expect((await patchWith(id, '{"budget":100,"rpm":5}')).status).toBe(500);
    expect(await keyAccount(env, id).view(Date.now())).toMatchObject({ budget: 100, rpm: 5, tpm: null });
    expect(await keysStub.active(id)).toMatchObject({ budget: 100, rpm: 5, tpm: null });
    // A budget removed: the copy may keep it (more limited), and the rpm it still has.
    expect((await patchWith(id, '{"budget":null,"tpm":50}')).status).toBe(500);
    expect(await keyAccount(env, id).view(Date.now())).toMatchObject({ budget: null, rpm: 5, tpm: 50 });
    expect(await keysStub.active(id)).toMatchObject({ budget: 100, rpm: 5, tpm: 50 });
    // Once the writes go through, the copy is exactly the account's.
    expect(await (await patch(id, { rpm: 6 })).json()).toMatchObject({ budget: null, rpm: 6, tpm: 50 });
    expect(await keysStub.active(id)).toMatchObject({ budget: null, rpm: 6, tpm: 50 });
  });

  it("never leaves the copy less limited than the account when two PATCHes of one key overlap", async () => {
    const { id } = await createApiKey("two-patches");
    await adminFetch(`/admin/keys/${id}`, { method: "PATCH", body: '{"budget":1000}' });
    // PATCH A (the budget removed) is held after its account changed, until PATCH B (an rpm added) has finished.
    let releaseA: () => void = () => {};
    const heldA = new Promise<void>((resolve) => (releaseA = resolve));
    const accounts = {
      idFromName: (name: string) => env.ACCOUNTS.idFromName(name),
      get: (accountId: DurableObjectId) => {
        const account = env.ACCOUNTS.get(accountId);
        return {
          configure: async (...args: Parameters<typeof account.configure>) => {
            const view = await account.configure(...args);
            await heldA;
            return view;
          },
        };
      },
    };
    const slowA = { ...env, ACCOUNTS: accounts as unknown as Env["ACCOUNTS"] };
    const patchWith = async (target: Env, body: string) => {
      const ctx = createExecutionContext();
      const req = new Request(`${BASE}/admin/keys/${id}`, {
        method: "PATCH",
        body,
        headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
      });
      const res = await worker.fetch(req as Request<unknown, IncomingRequestCfProperties>, target, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const a = patchWith(slowA, '{"budget":null}');
    // A's account change is in (the account now has no budget) before B starts.
    for (let i = 0; i < 100 && (await keyAccount(env, id).view(Date.now())).budget !== null; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await patchWith(env, '{"rpm":5}')).status).toBe(200);
    releaseA();
    expect((await a).status).toBe(200);
    expect(await keyAccount(env, id).view(Date.now())).toMatchObject({ budget: null, rpm: 5 });
    // The request path reads the copy: without the rpm there, no request would ever ask the account.
    expect(await keyIndexOf(env, id).active(id)).toMatchObject({ rpm: 5 });
  });

  it("validates limits, naming the field", async () => {
    const { id } = await createApiKey("validated");
    const cases: [unknown, string | null][] = [
      [{ budget: -1 }, "budget"],
      [{ budget: 1.5 }, "budget"],
      [{ budget: "5" }, "budget"],
      [{ rpm: 0 }, "rpm"],
      [{ tpm: 2_000_000_000 }, "tpm"],
      [{ rpm: 5, extra: 1 }, "extra"],
      [{ name: "renamed" }, "name"],
      [{}, null],
    ];
    for (const [body, param] of cases) {
      const res = await patch(id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = await errorBody(res);
      expect(err.param, JSON.stringify(body)).toBe(param);
      expect(err.type).toBe("invalid_request_error");
    }
    const bad = await adminFetch("/admin/keys", { method: "POST", ...json({ name: "x", rpm: -5 }) });
    expect(bad.status).toBe(400);
    expect((await errorBody(bad)).param).toBe("rpm");
    // Nothing changed.
    expect(await keyAccount(env, id).view(Date.now())).toMatchObject({ budget: null, rpm: null, tpm: null });
  });

  it("answers 404 for an unknown or revoked key, and 401 without the admin token", async () => {
    expect((await errorBody(await patch("key_nope", { rpm: 1 }))).code).toBe("key_not_found");
    const { id } = await createApiKey("gone");
    await adminFetch(`/admin/keys/${id}`, { method: "DELETE" });
    const revoked = await patch(id, { rpm: 1 });
    expect(revoked.status).toBe(404);
    const anonymous = await SELF.fetch(`${BASE}/admin/keys/${id}`, { method: "PATCH", body: '{"rpm":1}' });
    expect(anonymous.status).toBe(401);
  });
});
