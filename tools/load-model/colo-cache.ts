// One colo's Cache API (`caches.default`, `caches.open(name)`), shared by that colo's isolates as Cloudflare's is:
// a put is seen by every isolate of the colo until its `max-age` runs out on the simulated clock.

interface Stored {
  body: string;
  headers: [string, string][];
  status: number;
  expiresAt: number;
}

function maxAgeMs(response: Response): number {
  const match = /max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "");
  return match ? Number(match[1]) * 1000 : 0;
}

export class FakeCache {
  private readonly entries = new Map<string, Stored>();

  constructor(private readonly now: () => number) {}

  async match(request: Request | string): Promise<Response | undefined> {
    const url = typeof request === "string" ? request : request.url;
    const stored = this.entries.get(url);
    if (!stored) return undefined;
    if (stored.expiresAt <= this.now()) {
      this.entries.delete(url);
      return undefined;
    }
    return new Response(stored.body, { status: stored.status, headers: stored.headers });
  }

  async put(request: Request | string, response: Response): Promise<void> {
    const url = typeof request === "string" ? request : request.url;
    const ttl = maxAgeMs(response);
    const body = await response.text();
    if (ttl <= 0) return;
    this.entries.set(url, {
      body,
      headers: [...response.headers],
      status: response.status,
      expiresAt: this.now() + ttl,
    });
  }

  async delete(request: Request | string): Promise<boolean> {
    return this.entries.delete(typeof request === "string" ? request : request.url);
  }
}

/** A colo's caches: the default one and any opened by name. */
export class ColoCaches {
  readonly default: FakeCache;
  private readonly named = new Map<string, FakeCache>();

  constructor(private readonly now: () => number) {
    this.default = new FakeCache(now);
  }

  async open(name: string): Promise<FakeCache> {
    let cache = this.named.get(name);
    if (!cache) {
      cache = new FakeCache(this.now);
      this.named.set(name, cache);
    }
    return cache;
  }
}
