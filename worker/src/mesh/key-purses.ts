// The isolate's purses (billing/key-purse.ts), one per limited key it serves: where a busy key's requests are admitted
// from a slice of its account instead of one round trip each. A class with a module default, so a load model can run
// many isolates' worth in one process.
import { KeyPurse, type SliceAccount } from "../billing/key-purse.js";
import type { KeyLimits } from "../billing/records.js";
import { keyAccount } from "../durable/names.js";
import { keyCache } from "../http/auth.js";

/** Past this many purses, idle ones are dropped (they hold nothing: their slices were given back). */
const MAX_PURSES = 10_000;

const sameDimensions = (a: KeyLimits, b: KeyLimits) =>
  (a.budget === null) === (b.budget === null) &&
  (a.rpm === null) === (b.rpm === null) &&
  (a.tpm === null) === (b.tpm === null);

export interface PurseDeps {
  newId: () => string;
  wait: (ms: number) => Promise<number>;
  random?: () => number;
}

const realDeps: PurseDeps = {
  newId: () => crypto.randomUUID(),
  random: Math.random,
  wait: (ms) => new Promise((resolve) => setTimeout(() => resolve(Date.now()), ms)),
};

export class KeyPurses {
  private readonly purses = new Map<string, KeyPurse>();

  constructor(private readonly deps: PurseDeps = realDeps) {}

  /**
   * The key's purse. A key whose limits gained or lost a dimension gets a new one (requests admitted from the old
   * one settle there: they hold it, not this registry).
   */
  purse(keyId: string, limits: KeyLimits, account: () => SliceAccount): KeyPurse {
    const known = this.purses.get(keyId);
    if (known && sameDimensions(known.limits, limits)) return known;
    if (this.purses.size >= MAX_PURSES) this.dropIdle();
    const purse = new KeyPurse({ limits, account, ...this.deps });
    this.purses.set(keyId, purse);
    return purse;
  }

  /**
   * A key changed (revoked, limits changed; null: any key may have): its purse gives back what it has free and its next
   * request starts a fresh one. Answers in flight settle in the old purse, which they hold.
   */
  forgetPurse(keyId: string | null, now: number): Promise<unknown> | undefined {
    const work: Promise<unknown>[] = [];
    for (const [id, purse] of this.purses) {
      if (keyId !== null && id !== keyId) continue;
      this.purses.delete(id);
      // Should the give-back fail, the slice's free part stays held until it lapses: never overspent, only idle.
      const retired = purse.retire(now);
      if (retired)
        work.push(
          retired.catch((err: unknown) => console.error("giving back a changed key's slice failed", String(err))),
        );
    }
    return work.length > 0 ? Promise.all(work) : undefined;
  }

  private dropIdle(): void {
    for (const [keyId, purse] of this.purses) if (purse.idle) this.purses.delete(keyId);
  }
}

export const keyPurses = new KeyPurses();

/** The purse of a limited key in this isolate, over its account. */
export function purseFor(env: Env, keyId: string, limits: KeyLimits): KeyPurse {
  return keyPurses.purse(keyId, limits, () => keyAccount(env, keyId));
}

// A key's change reaches this isolate through its key cache (the key-changes feed): its purse follows at once, its
// give-back kept alive with the feed read.
keyCache.onKeyChange((keyId) => keyPurses.forgetPurse(keyId, Date.now()));
