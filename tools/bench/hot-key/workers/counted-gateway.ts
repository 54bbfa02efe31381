// The Meshgate Worker unchanged, but for a KeyAccount that counts the calls it receives, by method, and one bench-only
// route that reads them: the hot-key bench's account round trips per request, counted where they land (calls from
// isolates and from admission cells' flushes alike), without touching worker/src.
import gateway from "../../../../worker/src/index.js";
import { KeyAccount as Account } from "../../../../worker/src/durable/key-account/key-account.js";

import { ACCOUNT_PATH, type AccountCalls, type AccountFigures } from "../account-calls.js";

export * from "../../../../worker/src/index.js";

/**
 * By account object id, in module state rather than the object: an account evicted while idle between phases starts
 * again with its count intact (the objects all run in the first copy's isolate, which lives as long as the gateway).
 */
const counts = new Map<string, AccountCalls>();

function countsOf(id: string): AccountCalls {
  let found = counts.get(id);
  if (!found) {
    found = { reserve: 0, lease: 0, release: 0, record: 0 };
    counts.set(id, found);
  }
  return found;
}

export class KeyAccount extends Account {
  override reserve(...args: Parameters<Account["reserve"]>): ReturnType<Account["reserve"]> {
    countsOf(this.ctx.id.toString()).reserve++;
    return super.reserve(...args);
  }

  override lease(...args: Parameters<Account["lease"]>): ReturnType<Account["lease"]> {
    countsOf(this.ctx.id.toString()).lease++;
    return super.lease(...args);
  }

  override release(...args: Parameters<Account["release"]>): ReturnType<Account["release"]> {
    countsOf(this.ctx.id.toString()).release++;
    return super.release(...args);
  }

  override record(...args: Parameters<Account["record"]>): ReturnType<Account["record"]> {
    countsOf(this.ctx.id.toString()).record++;
    return super.record(...args);
  }

  /** The calls so far, and the usage totals the account answers GET /v1/usage with. */
  benchFigures(now: number): AccountFigures {
    const calls = { ...countsOf(this.ctx.id.toString()) };
    const { totals } = this.usage({ from: 0, to: now + 60_000, group_by: null, limit: 0 });
    // Exact sums (BigInt); a bench's figures are far below 2^53.
    const usage = {
      requests: Number(totals.requests),
      total_tokens: Number(totals.total_tokens),
      cost: Number(totals.cost),
    };
    return { calls, usage };
  }
}

async function accountFigures(request: Request, env: Env): Promise<Response> {
  if (request.headers.get("authorization") !== `Bearer ${env.ADMIN_TOKEN}`) return new Response(null, { status: 401 });
  const keyId = new URL(request.url).searchParams.get("key");
  if (!keyId) return new Response(null, { status: 400 });
  // The binding is typed with the Worker's own class; here it serves this subclass.
  const accounts = env.ACCOUNTS as unknown as DurableObjectNamespace<KeyAccount>;
  // The same name as worker/src/durable/names.ts keyAccount().
  return Response.json(await accounts.get(accounts.idFromName(`ledger:${keyId}`)).benchFigures(Date.now()));
}

export default {
  fetch: (request, env, ctx) =>
    new URL(request.url).pathname === ACCOUNT_PATH ? accountFigures(request, env) : gateway.fetch(request, env, ctx),
  scheduled: gateway.scheduled,
} satisfies ExportedHandler<Env>;
