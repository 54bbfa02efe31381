import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { adminFetch, BASE, clientFetch, createApiKey, errorBody } from "./helpers.js";

describe("/admin/keys", () => {
  it("creates a key shown once, lists it without the secret, and revokes it", async () => {
    const res = await adminFetch("/admin/keys", { method: "POST", body: JSON.stringify({ name: "ci" }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; name: string; key: string; created: number };
    expect(created).toMatchObject({ name: "ci", id: expect.stringMatching(/^key_/), key: expect.stringMatching(/^mg-/) });
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
    const { key } = await createApiKey("hashing");
    const stub = env.KEYS.get(env.KEYS.idFromName("keys"));
    const { runInDurableObject } = await import("cloudflare:test");
    const stored = await runInDurableObject(stub, (_obj, state) => JSON.stringify(state.storage.sql.exec("SELECT * FROM api_keys").toArray()));
    expect(stored).not.toContain(key);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)))].map((b) => b.toString(16).padStart(2, "0")).join("");
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

  it("answers 404 when revoking an unknown or already revoked key", async () => {
    const { id } = await createApiKey();
    expect((await adminFetch(`/admin/keys/${id}`, { method: "DELETE" })).status).toBe(200);
    const again = await adminFetch(`/admin/keys/${id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect((await errorBody(again)).code).toBe("key_not_found");
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
