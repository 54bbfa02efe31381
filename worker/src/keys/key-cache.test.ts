import { describe, expect, it } from "vitest";
import type { ChangesRead, KeyChange } from "./changes-json.js";
import { type CachedIdentity, ENTRY_TTL_MS, KeyCache, type KeySource } from "./key-cache.js";

const identity = (id: string, rpm: number | null = null): CachedIdentity => ({
  id,
  name: id,
  limits: { budget: null, rpm, tpm: null },
});

/** An index and a feed in memory; counts lookups and feed reads. */
function fakeSource() {
  const keys = new Map<string, CachedIdentity>();
  let changes: KeyChange[] = [];
  let head = 0;
  const state = { lookups: 0, reads: 0, feedDown: false, first: 1 };
  const source: KeySource = {
    lookup: async (hash) => {
      state.lookups++;
      return keys.get(hash) ?? null;
    },
    readChanges: async (now): Promise<ChangesRead> => {
      state.reads++;
      if (state.feedDown) throw new Error("feed down");
      return { head, first: Math.max(state.first, changes[0]?.seq ?? head + 1), changes, readAt: now };
    },
  };
  return {
    source,
    state,
    keys,
    change(id: string) {
      changes = [...changes, { seq: ++head, id }];
    },
    trim() {
      changes = [];
      state.first = head + 1;
    },
  };
}

/** What hashApiKey gives the tokens used here (the fake index is keyed by hash). */
async function hashOf(token: string): Promise<string> {
  const { hashApiKey } = await import("./api-key.js");
  return await hashApiKey(token);
}

async function setup() {
  const fake = fakeSource();
  const cache = new KeyCache(fake.source, 3);
  const pending: Promise<void>[] = [];
  const background = (work: Promise<void>) => void pending.push(work);
  const identify = async (token: string, id: string | null, now: number) => {
    const found = await cache.identify(token, id, now, background);
    await Promise.all(pending.splice(0));
    return found;
  };
  return { fake, cache, identify };
}

describe("the isolate's key cache", () => {
  it("keeps a key ~60 s with one lookup while the feed is read", async () => {
    const { fake, identify } = await setup();
    fake.keys.set(await hashOf("tok-a"), identity("key_a"));
    for (let t = 0; t < ENTRY_TTL_MS; t += 500) expect(await identify("tok-a", "key_a", t)).toEqual(identity("key_a"));
    expect(fake.state.lookups).toBe(1);
    await identify("tok-a", "key_a", ENTRY_TTL_MS);
    expect(fake.state.lookups).toBe(2);
  });

  it("drops a key named by the feed, and tells the listeners", async () => {
    const { fake, cache, identify } = await setup();
    const heard: (string | null)[] = [];
    cache.onKeyChange((id) => heard.push(id));
    const hash = await hashOf("tok-a");
    fake.keys.set(hash, identity("key_a"));
    await identify("tok-a", "key_a", 0);
    fake.keys.set(hash, identity("key_a", 7));
    fake.change("key_a");
    // The next due read (here, beside the request) applies the change; the request after looks the key up again.
    await identify("tok-a", "key_a", 1_000);
    expect(await identify("tok-a", "key_a", 1_001)).toEqual(identity("key_a", 7));
    expect(heard).toEqual(["key_a"]);
  });

  it("keeps a listener's work (a changed key's purse giving back) inside the read the request keeps alive", async () => {
    const fake = fakeSource();
    const cache = new KeyCache(fake.source);
    let givenBack = false;
    cache.onKeyChange(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      givenBack = true;
    });
    fake.keys.set(await hashOf("tok-a"), identity("key_a"));
    const kept: Promise<void>[] = [];
    await cache.identify("tok-a", "key_a", 0, (work) => void kept.push(work));
    fake.change("key_a");
    await cache.identify("tok-a", "key_a", 1_000, (work) => void kept.push(work));
    // What the runtime keeps alive (waitUntil) once the response is sent: the give-back is done when it settles.
    for (let work = kept.shift(); work; work = kept.shift()) await work;
    expect(givenBack).toBe(true);
  });

  it("never uses an entry the feed has not vouched for in 2 s: an unreadable feed means lookups (fail safe)", async () => {
    const { fake, identify } = await setup();
    const hash = await hashOf("tok-a");
    fake.keys.set(hash, identity("key_a"));
    await identify("tok-a", "key_a", 0);
    fake.state.feedDown = true;
    fake.keys.delete(hash); // revoked, and no isolate can hear of it
    expect(await identify("tok-a", "key_a", 1_500)).toEqual(identity("key_a")); // within the bound
    expect(await identify("tok-a", "key_a", 2_001)).toBeNull();
  });

  it("awaits a due read when its copy is older than 2 s, and refuses a key revoked meanwhile", async () => {
    const { fake, identify } = await setup();
    const hash = await hashOf("tok-a");
    fake.keys.set(hash, identity("key_a"));
    await identify("tok-a", "key_a", 0);
    const lookups = fake.state.lookups;
    fake.keys.delete(hash);
    fake.change("key_a");
    expect(await identify("tok-a", "key_a", 5_000)).toBeNull();
    expect(fake.state.lookups).toBe(lookups + 1);
  });

  it("never waits on a feed read another request started (it may never settle), and gives such a read up after 5 s", async () => {
    const fake = fakeSource();
    fake.keys.set(await hashOf("tok-a"), identity("key_a"));
    let hung = 0;
    const source: KeySource = {
      lookup: fake.source.lookup,
      // The second read never settles, as a read whose request ended may not in workerd.
      readChanges: (now) => (++hung === 2 ? new Promise<ChangesRead>(() => {}) : fake.source.readChanges(now)),
    };
    const cache = new KeyCache(source);
    expect(await cache.identify("tok-a", "key_a", 0)).toEqual(identity("key_a"));
    // Another request starts the read that hangs (in the background: nobody awaits it).
    expect(await cache.identify("tok-a", "key_a", 1_500)).toEqual(identity("key_a"));
    // Stale now (no read vouched for the entry in 2 s), with that read still pending: looked up again, no wait.
    const lookups = fake.state.lookups;
    expect(await cache.identify("tok-a", "key_a", 2_600)).toEqual(identity("key_a"));
    expect(fake.state.lookups).toBe(lookups + 1);
    // Past 5 s the lost read no longer holds the next one back.
    await cache.identify("tok-a", "key_a", 6_600);
    expect(hung).toBe(3);
  });

  it("drops everything when it fell behind the feed's tail", async () => {
    const { fake, cache, identify } = await setup();
    const heard: (string | null)[] = [];
    cache.onKeyChange((id) => heard.push(id));
    fake.keys.set(await hashOf("tok-a"), identity("key_a"));
    await identify("tok-a", "key_a", 0);
    fake.change("key_other");
    fake.change("key_other2");
    fake.trim();
    await identify("tok-a", "key_a", 1_000);
    expect(cache.size).toBe(0);
    expect(heard).toEqual([null]);
  });

  it("caches tagged unknown tokens negatively, never legacy ones, and evicts the oldest one at a time", async () => {
    const { fake, cache, identify } = await setup();
    fake.keys.set(await hashOf("tok-a"), identity("key_a"));
    await identify("tok-a", "key_a", 0);
    expect(await identify("legacy-random", null, 1)).toBeNull();
    expect(cache.size).toBe(1);
    await identify("tagged-unknown", "key_x", 2);
    await identify("tagged-unknown", "key_x", 3);
    expect(cache.size).toBe(2);
    expect(fake.state.lookups).toBe(3); // tok-a, legacy-random, tagged-unknown once
    // Capacity 3: two more push out the oldest (tok-a) only.
    await identify("tagged-2", "key_y", 4);
    await identify("tagged-3", "key_z", 5);
    expect(cache.size).toBe(3);
    const before = fake.state.lookups;
    await identify("tagged-3", "key_z", 6);
    await identify("tok-a", "key_a", 7);
    expect(fake.state.lookups).toBe(before + 1);
  });

  it("does not cache a lookup that began before a change it may predate", async () => {
    const fake = fakeSource();
    const hash = await hashOf("tok-a");
    fake.keys.set(hash, identity("key_a"));
    let release = () => {};
    let started = () => {};
    const lookupStarted = new Promise<void>((resolve) => (started = resolve));
    const slow: KeySource = {
      readChanges: fake.source.readChanges,
      lookup: async (h, c) => {
        const found = await fake.source.lookup(h, c);
        if (c !== "key_a") return found;
        const held = new Promise<void>((resolve) => (release = resolve));
        started();
        await held;
        return found;
      },
    };
    const cache = new KeyCache(slow);
    await cache.identify("tok-b", null, 0); // the first feed read
    const inFlight = cache.identify("tok-a", "key_a", 1_000);
    await lookupStarted;
    cache.forget(hash, "key_a");
    release();
    expect(await inFlight).toEqual(identity("key_a"));
    expect(cache.size).toBe(0);
  });
});
