// Integer query parameters (?limit=, ?page=): one parser for every endpoint, so each accepts the same spellings and
// says the same about a bad one. Decimal digits only: no sign, exponent, fraction, radix prefix or spaces (what
// Number() would also read). Absent or empty means the default.
import { z } from "zod";
import { invalid, ok, refuse, type Invalid, type Result } from "./refusal.js";

export interface IntParam {
  /** When the parameter is absent or empty. */
  fallback: number;
  min: number;
  max: number;
}

const Digits = z
  .string()
  .regex(/^\d+$/)
  .transform((text) => Number(text));

/** `params.get(param)` as an integer from min to max; a refusal naming the parameter and the range otherwise. */
export function queryInt(
  params: URLSearchParams,
  param: string,
  { fallback, min, max }: IntParam,
): Result<number, Invalid> {
  const value = params.get(param);
  if (value === null || value === "") return ok(fallback);
  const parsed = Digits.pipe(z.int().min(min).max(max)).safeParse(value);
  if (parsed.success) return ok(parsed.data);
  return refuse(invalid(param, `Invalid ${param}: an integer from ${min} to ${max}.`));
}
