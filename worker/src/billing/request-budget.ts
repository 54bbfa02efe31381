// One request's hold on its key's budget and rate limits: the worst case is reserved before a node is asked (again,
// for the difference, if a failover picks a pricier node), and given back if no node answers. The answer's actual
// cost is charged when its usage is settled (mesh/reporting.ts), which also drops the reservation.
import { FREE, type Price } from "@meshgate/schemas";
import { HttpError } from "../http/http-error.js";
import type { KeyLimits, RateLimitHeaders, Reservation, ReserveResult } from "./records.js";
import { completionsPerRequest, likelyPromptTokens, MAX_COMPLETION_TOKENS, requestedCompletionCap, tooLargeToReserve, worstCaseCost, worstCasePromptTokens, type WorstCase } from "./request-cost.js";
import { hasAnyLimit } from "./reservation.js";

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
  /**
   * The cap a budgeted key's request gets when it names none (its worst case must be finite): what the endpoint's
   * servers would otherwise default to (16 for completions, as OpenAI documents; a long answer for chat).
   */
  defaultCap: number;
  feeBps: number;
}

export class RequestBudget {
  readonly worstCase: WorstCase;
  /** A completion cap the gateway adds to the request sent to nodes (a budgeted key's request named none). */
  readonly addedCap: number | null;
  /** OpenAI's x-ratelimit-* headers from the last reservation; sent with the answer or the error. */
  headers: RateLimitHeaders = {};
  /** What is held now (micro-units), once a reservation was made. */
  private held: number | null = null;
  private readonly limited: boolean;
  /** Counted against tokens-per-minute; the account corrects it to the answer's real total when it settles. */
  private readonly rateTokens: number;
  /** A cap too large to reserve for (checked once a node was picked, so an unknown model is still a 404). */
  private readonly oversized: boolean;

  constructor(private readonly init: RequestBudgetInit) {
    const { limits } = init;
    this.limited = hasAnyLimit(limits);
    const requested = requestedCompletionCap(init.body, init.generates);
    // A budget is a promise: a request without a cap gets one, so its worst case (and its charge) is bounded.
    this.addedCap = requested === null && limits.budget !== null ? init.defaultCap : null;
    const choices = completionsPerRequest(init.body);
    const cap = requested ?? this.addedCap;
    this.worstCase = { promptTokens: worstCasePromptTokens(init.bodyBytes), completionTokens: cap === null ? Number.MAX_SAFE_INTEGER : cap * choices };
    this.rateTokens = likelyPromptTokens(init.bodyBytes) + (cap ?? init.defaultCap) * choices;
    this.oversized = (cap ?? 0) * choices > MAX_COMPLETION_TOKENS;
  }

  /** Before a node is asked: holds the worst case at its price. Throws the 429 the client gets when it can't. */
  async cover(price: Price | null, now: number): Promise<void> {
    if (!this.limited) return;
    if (this.oversized) throw tooLargeToReserve();
    const amount = this.init.limits.budget === null ? 0 : worstCaseCost(this.worstCase, price ?? FREE, this.init.feeBps);
    if (this.held !== null && amount <= this.held) return;
    const result = await this.init.account().reserve({ request_id: this.init.requestId, amount, tokens: this.rateTokens }, now);
    this.headers = result.headers;
    if (!result.ok) {
      const headers: Record<string, string> = { ...result.headers };
      if (result.retryAfterSeconds !== null) headers["retry-after"] = String(result.retryAfterSeconds);
      throw new HttpError(429, result.message, { type: result.code === "insufficient_quota" ? "insufficient_quota" : "rate_limit_error", code: result.code, headers });
    }
    this.held = amount;
  }

  /** No node answered: give the reservation back (off the response path). */
  release(now: number): Promise<unknown> | null {
    if (!this.limited || this.held === null) return null;
    this.held = null;
    return this.init.account().release([this.init.requestId], now);
  }
}
