// How long each part of the hot-key bench runs (full and --quick), and the limits it sets.

export interface HotKeySizes {
  /** Concurrencies the rate ramp tries, in order, until throughput stops rising. */
  concurrencies: number[];
  stepMs: number;
  /** The limited key and the baseline key, each this long at the ramp's best concurrency (over PAIR_ROUNDS rounds). */
  pairMs: number;
  /** The budget phase's loop; its budget covers about half of it at the measured rate. */
  budgetMs: number;
  /** The rpm and tpm windows. */
  limitWindowMs: number;
}

export const FULL: HotKeySizes = {
  concurrencies: [4, 8, 16, 32, 64, 128],
  stepMs: 5_000,
  pairMs: 10_000,
  budgetMs: 10_000,
  limitWindowMs: 10_000,
};

export const QUICK: HotKeySizes = {
  concurrencies: [8, 16, 32, 64],
  stepMs: 2_000,
  pairMs: 4_000,
  budgetMs: 6_000,
  limitWindowMs: 10_000,
};

/** The baseline and the limited key alternate this many times. */
export const PAIR_ROUNDS = 3;
/** A step must beat the best before it by this much for the ramp to go on. */
export const RAMP_GAIN = 0.05;
/** Limits the rate phase sets: a budget, rpm and tpm on the path, none of them near refusing. */
export const GENEROUS = { budget: 10_000_000_000_000, rpm: 10_000_000, tpm: 1_000_000_000 };
/** The rate-limit phase's rpm, well below the sustained rate. */
export const RPM = 120;
/** The tpm phase's limit, in requests at the tokens a request actually used in the rate phase: it binds within the window. */
export const TPM_REQUESTS = 120;
/** Past a purse's idle give-back (1 s, worker/src/billing/key-purse.ts): every isolate has returned its slices. */
export const IDLE_MS = 2_000;
