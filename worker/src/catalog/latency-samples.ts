// The times to first token the gateway itself measured for each model's successful answers, kept for the last hour up
// to a fixed number per model: their median is the p50 the model list shows. A node's own figures never enter.
// Pure: time comes in as an argument.
import { lowerMedian } from "./median.js";

export const SAMPLES_PER_MODEL = 256;
export const SAMPLE_MAX_AGE_MS = 3_600_000;
/**
 * Models tracked at most: a node cycling made-up model names cannot grow this without bound. A new model replaces the
 * one sampled least recently, so names that are gone (whose p50 nobody asks for, so never forgotten by age) cannot
 * keep a later model from being measured.
 */
export const MAX_MODELS = 1_024;

/** A model's latest samples in two typed arrays: 16 bytes each, so the table stays under 5 MB at its limits. */
interface Ring {
  at: Float64Array;
  ms: Float64Array;
  size: number;
  next: number;
}

function newRing(): Ring {
  return { at: new Float64Array(SAMPLES_PER_MODEL), ms: new Float64Array(SAMPLES_PER_MODEL), size: 0, next: 0 };
}

export class LatencySamples {
  /** Per model, a ring of its latest samples; in the order models were last sampled, least recent first. */
  private readonly rings = new Map<string, Ring>();

  add(model: string, ms: number, at: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    let ring = this.rings.get(model);
    if (ring) {
      this.rings.delete(model);
    } else {
      if (this.rings.size >= MAX_MODELS) this.rings.delete(this.rings.keys().next().value!);
      ring = newRing();
    }
    this.rings.set(model, ring);
    ring.at[ring.next] = at;
    ring.ms[ring.next] = ms;
    ring.size = Math.min(ring.size + 1, SAMPLES_PER_MODEL);
    ring.next = (ring.next + 1) % SAMPLES_PER_MODEL;
  }

  /** The median of the model's samples from the last hour, ms; null with none. */
  p50(model: string, now: number): number | null {
    const ring = this.rings.get(model);
    if (!ring) return null;
    const recent: number[] = [];
    for (let i = 0; i < ring.size; i++) if (now - ring.at[i]! <= SAMPLE_MAX_AGE_MS) recent.push(ring.ms[i]!);
    if (recent.length === 0) {
      this.rings.delete(model);
      return null;
    }
    return lowerMedian(recent);
  }
}
