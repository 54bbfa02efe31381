// What the counted gateway (workers/counted-gateway.ts) and the bench share: the route that reads a key's account
// calls and usage, and what it answers. Plain types, so both the Worker's and the tools' type-checks read it.

/**
 * GET with the admin token and `?key=<key id>`: that key's account calls so far, and its usage totals from the account
 * (the call GET /v1/usage makes), read from the account itself beside its call counts.
 */
export const ACCOUNT_PATH = "/__bench/account";

/** Calls a KeyAccount received, by method. */
export interface AccountCalls {
  reserve: number;
  lease: number;
  release: number;
  record: number;
}

export function totalCalls(c: AccountCalls): number {
  return c.reserve + c.lease + c.release + c.record;
}

/** The key's usage totals, as GET /v1/usage reports them (whole numbers). */
export interface AccountUsage {
  requests: number;
  total_tokens: number;
  cost: number;
}

export interface AccountFigures {
  calls: AccountCalls;
  usage: AccountUsage;
}
