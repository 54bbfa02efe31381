// One request's hold on its key's budget and rate limits: the worst case at the chosen node's price (and, without a
// client cap, the node's context length) is reserved before the node is asked (again, for the difference, if a
// failover picks a node whose worst case costs more), and given back if no node answers. The answer's actual cost is
// charged when its usage row reaches the account (from the admission cell's write-ahead, or mesh/reporting.ts as the
// fallback), which also drops an exact reservation; a hold in the isolate's slice becomes the actual cost at settle().
// The request's body is never changed for the budget's sake.
import { FREE, type Price } from "@meshgate/schemas";
import { ok, refuse, type Invalid, type Result } from "../lib/refusal.js";
import type { KeyLimits, RateLimitHeaders, Reservation, ReserveResult } from "./records.js";
import { likelyPromptTokens, MAX_COMPLETION_TOKENS, tooLargeToReserve, worstCaseCost } from "./request-cost.js";
import type { RequestShape } from "./request-shape.js";
import { hasAnyLimit } from "./reservation.js";
import { worstCase } from "./token-bounds.js";

/**
 * The part of a key's account the request path uses: the KeyAccount Durable Object's RPC methods, or the isolate's
 * purse for the key (key-purse.ts), which admits from a slice of the account and also learns each answer's cost.
 */
export interface ReservingAccount {
  reserve(r: Reservation, now: number): Promise<ReserveResult>;
  release(requestIds: string[], now: number): Promise<unknown>;
  /** The answer's usage is recorded: the hold becomes its cost. A promise to keep alive when one is returned. */
  settle?(requestId: string, cost: number, totalTokens: number, now: number): Promise<unknown> | null;
  /** The slice the request's hold is in (its usage row names it); null for an exact reservation. */
  sliceOf?(requestId: string): string | null;
}

export interface RequestBudgetInit {
  requestId: string;
  limits: KeyLimits;
  /** Only consulted when the key has a limit; unlimited keys never wait for a reservation. */
  account: () => ReservingAccount;
  shape: RequestShape;
  bodyBytes: number;
  /**
   * Completion tokens per choice a request without a cap is counted for against tokens-per-minute until its answer
   * is recorded (and the real total replaces it): what the endpoint's servers would default to.
   */
  likelyCap: number;
  feeBps: number;
  /** Keeps work the budget starts after the response alive (the purse's idle give-back): ctx.waitUntil. */
  defer?: (work: Promise<unknown>) => void;
}

/** A node's terms, as far as the worst case goes. */
export interface NodeTerms {
  price: Price | null;
  /** The node's context length for the model; null when it advertised none. */
  contextLength: number | null;
}

/** Whether the node's worst case is now held; "unaffordable": the budget left can't cover it (try a cheaper node). */
export type Cover = "held" | "unaffordable";

/** The key's account refused the reservation: a rate limit (rpm, tpm) or the budget. The client gets a 429. */
export interface OverLimit {
  kind: "over_limit";
  code: "insufficient_quota" | "rate_limit_exceeded";
  message: string;
  /** Seconds until a retry can succeed; null when waiting won't help. */
  retryAfterSeconds: number | null;
  headers: RateLimitHeaders;
}

/**
 * What a node's worst case must fit in once the budget has refused once: enough for a decider elsewhere (an admission
 * cell) to leave out the nodes too dear for this request, as `RequestBudget.affordable` does here.
 */
export interface AffordBound {
  bodyBytes: number;
  shape: RequestShape;
  feeBps: number;
  /** Micro-units already held for the request. */
  held: number;
  /** Micro-units the budget had free at its refusal. */
  left: number;
}

/** The most a request can cost at a node's terms, fee included. */
function worstCostAt(bodyBytes: number, shape: RequestShape, feeBps: number, terms: NodeTerms): number {
  return worstCaseCost(worstCase(bodyBytes, shape, terms.contextLength), terms.price ?? FREE, feeBps);
}

/** Whether the node's worst case may fit; every node does while there is no bound (null). */
export function affordableAt(bound: AffordBound | null, terms: NodeTerms): boolean {
  return bound === null || worstCostAt(bound.bodyBytes, bound.shape, bound.feeBps, terms) - bound.held <= bound.left;
}

export class RequestBudget {
  /** OpenAI's x-ratelimit-* headers from the last reservation; sent with the answer or the error. */
  headers: RateLimitHeaders = {};
  /** What is held now (micro-units), once a reservation was made. */
  private held: number | null = null;
  /** Micro-units the budget had free at its last refusal: no node whose worst case costs more is asked. */
  private left: number | null = null;
  private refusal: OverLimit | null = null;
  private readonly limited: boolean;
  /** Counted against tokens-per-minute; the account corrects it to the answer's real total when it records it. */
  private readonly rateTokens: number;
  /** A cap too large to reserve for (checked once a node was picked, so an unknown model is still a 404). */
  private readonly oversized: boolean;

  constructor(private readonly init: RequestBudgetInit) {
    const { shape } = init;
    this.limited = hasAnyLimit(init.limits);
    this.rateTokens =
      likelyPromptTokens(init.bodyBytes) + (shape.generates ? (shape.cap ?? init.likelyCap) * shape.choices : 0);
    this.oversized = (shape.cap ?? 0) * shape.choices > MAX_COMPLETION_TOKENS;
  }

  /** The slice the request was admitted from, for its usage row; null for an exact reservation or none. */
  get sliceId(): string | null {
    if (!this.limited || this.held === null) return null;
    return this.init.account().sliceOf?.(this.init.requestId) ?? null;
  }

  /** Micro-units held for this request now; null when nothing is (a key without a budget). */
  get reserved(): number | null {
    return this.init.limits.budget === null ? null : this.held;
  }

  /** The most this request can cost at the node's terms, fee included (0 for a key without a budget). */
  private costAt(terms: NodeTerms): number {
    if (this.init.limits.budget === null) return 0;
    return worstCostAt(this.init.bodyBytes, this.init.shape, this.init.feeBps, terms);
  }

  /** Whether the node's worst case may still fit in the budget: false once a refusal said it can't. */
  affordable(terms: NodeTerms): boolean {
    return this.left === null || this.costAt(terms) - (this.held ?? 0) <= this.left;
  }

  /** The bound `affordable` applies, for a decider elsewhere; null while every node may fit. */
  bound(): AffordBound | null {
    if (this.left === null || this.init.limits.budget === null) return null;
    const { bodyBytes, shape, feeBps } = this.init;
    return { bodyBytes, shape, feeBps, held: this.held ?? 0, left: this.left };
  }

  /**
   * Before a node is asked: holds its worst case. Refuses a rate limit (no node helps) and a cap too large to reserve
   * for; a budget too small for this node is "unaffordable" (see refused()).
   */
  async cover(terms: NodeTerms, now: number): Promise<Result<Cover, Invalid | OverLimit>> {
    if (!this.limited) return ok("held");
    if (this.oversized) return refuse(tooLargeToReserve());
    const amount = this.costAt(terms);
    if (this.held !== null && amount <= this.held) return ok("held");
    if (!this.affordable(terms)) return ok("unaffordable");
    const result = await this.init
      .account()
      .reserve({ request_id: this.init.requestId, amount, tokens: this.rateTokens }, now);
    this.headers = result.headers;
    if (result.ok) {
      this.held = amount;
      return ok("held");
    }
    const refusal: OverLimit = {
      kind: "over_limit",
      code: result.code,
      message: result.message,
      retryAfterSeconds: result.retryAfterSeconds,
      headers: { ...result.headers },
    };
    if (result.code !== "insufficient_quota" || result.budgetLeft === undefined) return refuse(refusal);
    this.left = result.budgetLeft;
    this.refusal = refusal;
    return ok("unaffordable");
  }

  /** The budget's refusal (insufficient_quota) for a request no node's worst case fits; null if it never refused. */
  refused(): OverLimit | null {
    return this.refusal;
  }

  /** No node answered: give the reservation back (off the response path). */
  release(now: number): Promise<unknown> | null {
    if (!this.limited || this.held === null) return null;
    this.held = null;
    return this.init.account().release([this.init.requestId], now);
  }

  /**
   * The answer's usage record is durable: what was held becomes its actual cost and tokens (in the isolate's purse; an
   * exact reservation ends at the account when it records the row).
   */
  settle(cost: number, totalTokens: number, now: number): void {
    if (!this.limited || this.held === null) return;
    this.held = null;
    const work = this.init.account().settle?.(this.init.requestId, cost, totalTokens, now);
    if (work !== null && work !== undefined)
      this.init.defer?.(work.catch((e: unknown) => console.error("giving back a slice failed", String(e))));
  }
}
