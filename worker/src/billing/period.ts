// Which period an admin may close: a valid [from, to), at least MIN_SETTLEMENT_PERIOD_MS long, that ended long
// enough ago for its receipts to have arrived.
import { MIN_SETTLEMENT_PERIOD_MS } from "@meshgate/schemas";
import { z } from "zod";
import { instantMs } from "../lib/instant.js";
import { invalid, ok, refuse, type Invalid, type Result } from "../lib/refusal.js";

/**
 * Receipts reach the earnings shards through per-isolate batching and retries; a period is closed only once this
 * long has passed since its end, so receipts still in flight land inside it rather than arriving late.
 */
export const DEFAULT_SETTLEMENT_DELAY_MS = 300_000;

/** Unix seconds, or a string: unix seconds in digits or an ISO 8601 date/time. */
const InstantSchema = z.union([z.int().min(0).max(1e11), z.string().min(1).max(64)]);
export const PeriodBodySchema = z.strictObject({ from: InstantSchema, to: InstantSchema });
export type PeriodBody = z.infer<typeof PeriodBodySchema>;

export interface Period {
  /** ms since the epoch, inclusive. */
  from: number;
  /** ms since the epoch, exclusive. */
  to: number;
}

/** SETTLEMENT_DELAY_MS: a non-negative integer of milliseconds; absent or unreadable means the default. */
export function settlementDelayMs(raw: string | undefined): number {
  const text = raw?.trim();
  if (!text || !/^\d{1,12}$/.test(text)) return DEFAULT_SETTLEMENT_DELAY_MS;
  return Number(text);
}

function periodEnd(value: number | string, param: string): Result<number, Invalid> {
  const ms = instantMs(value);
  if (ms === null || ms < 0)
    return refuse(
      invalid(param, `Invalid ${param}: use unix seconds or an ISO 8601 date, from 1970 to the year 33658.`),
    );
  return ok(ms);
}

/** The period to close, or a refusal naming what is wrong with it. */
export function settlementPeriod(body: PeriodBody, now: number, delayMs: number): Result<Period, Invalid> {
  const start = periodEnd(body.from, "from");
  if (!start.ok) return start;
  const end = periodEnd(body.to, "to");
  if (!end.ok) return end;
  const [from, to] = [start.value, end.value];
  if (from >= to) return refuse(invalid("to", "Invalid period: `from` must be before `to`."));
  // A node can only warn about a receipt from a period's last minute that is missing (it may be carried into the
  // next close); periods of a few minutes would let that excuse cover most receipts.
  if (to - from < MIN_SETTLEMENT_PERIOD_MS) {
    return refuse(
      invalid(
        "to",
        `The period is too short: a settlement covers at least ${MIN_SETTLEMENT_PERIOD_MS} ms (${MIN_SETTLEMENT_PERIOD_MS / 3_600_000} hour).`,
        "period_too_short",
      ),
    );
  }
  if (to > now - delayMs) {
    // A valid date: `to` is within MAX_INSTANT_MS and the delay has at most 12 digits.
    const earliest = new Date(to + delayMs).toISOString();
    return refuse(
      invalid(
        "to",
        `The period has not been over for ${delayMs} ms yet: receipts may still be arriving. Close it after ${earliest}.`,
        "period_not_over",
      ),
    );
  }
  return ok({ from, to });
}
