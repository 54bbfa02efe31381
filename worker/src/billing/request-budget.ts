// One request's hold on its key's budget and rate limits: the worst case is reserved before a node is asked (again,
// for the difference, if a failover picks a pricier node), and given back if no node answers. The answer's actual
// cost is charged when its usage is settled (mesh/reporting.ts), which also drops the reservation.
import { FREE, type Price } from "@meshgate/schemas";
import { HttpError } from "../http/http-error.js";
import type { KeyLimits, RateLimitHeaders, Reservation, ReserveResult } from "./records.js";
import { DEFAULT_COMPLETION_CAP, likelyPromptTokens, requestedCompletionCap, worstCaseCost, worstCasePromptTokens, type WorstCase } from "./request-cost.js";

/** The part of a key's account the request path uses (the KeyAccount Durable Object's RPC methods). */
export interface ReservingAccount {
  reserve(r: Reservation, now: number): Promise<ReserveResult>;
  release(requestIds: string[], now: number): Promise<unknown>;
}

export interface RequestBudgetInit {
  requestId: string;
  limits: KeyLimits;
  /** Only consulted when the key has a limit; unlimited keys never wait for a reservation. */
  account: () => ReservingAccount;
  body: Record<string, unknown>;
  bodyBytes: number;
  /** False for embeddings: nothing is generated. */
  generates: boolean;
  feeBps: number;
}

export class RequestBudget {
  readonly worstCase: WorstCase;
  /** A completion cap the gateway adds to the request sent to nodes (a budgeted key's request named none). */
  readonly addedCap: number | null;
  /** OpenAI's x-ratelimit-* headers from the last reservation; sent with the answer or the error. */
  headers: RateLimitHeaders = {};
  private held = 0;
  private readonly limited: boolean;

  constructor(private readonly init: RequestBudgetInit) {
    const { limits } = init;
    this.limited = limits.budget !== null || limits.rpm !== null || limits.tpm !== null;
    const requested = requestedCompletionCap(init.body, init.generates);
    // A budget is a promise: a request without a cap gets one, so its worst case (and its charge) is bounded.
    this.addedCap = requested === null && limits.budget !== null ? DEFAULT_COMPLETION_CAP : null;
    this.worstCase = { promptTokens: worstCasePromptTokens(init.bodyBytes), completionTokens: requested ?? this.addedCap ?? Number.MAX_SAFE_INTEGER };
  }

  /** Before a node is asked: holds the worst case at its price. Throws the 429 the client gets when it can't. */
  async cover(price: Price | null, now: number): Promise<void> {
    if (!this.limited) return;
    const amount = this.init.limits.budget === null ? 0 : worstCaseCost(this.worstCase, price ?? FREE, this.init.feeBps);
    if (this.held > 0 && amount <= this.held) return;
    const tokens = likelyPromptTokens(this.init.bodyBytes) + Math.min(this.worstCase.completionTokens, DEFAULT_COMPLETION_CAP);
    const result = await this.init.account().reserve({ request_id: this.init.requestId, amount, tokens }, now);
    this.headers = result.headers;
    if (!result.ok) {
      const headers: Record<string, string> = { ...result.headers };
      if (result.retryAfterSeconds !== null) headers["retry-after"] = String(result.retryAfterSeconds);
      throw new HttpError(429, result.message, { type: result.code === "insufficient_quota" ? "insufficient_quota" : "rate_limit_error", code: result.code, headers });
    }
    this.held = Math.max(amount, 1);
  }

  /** No node answered: give the reservation back (off the response path). */
  release(now: number): Promise<unknown> | null {
    if (!this.limited || this.held === 0) return null;
    this.held = 0;
    return this.init.account().release([this.init.requestId], now);
  }
}
