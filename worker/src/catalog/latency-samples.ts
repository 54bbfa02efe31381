// The times to first token the gateway itself measured for each model's successful answers, kept for the last hour up
// to a fixed number per model: their median is the p50 the model list shows. A node's own figures never enter.
// Pure: time comes in as an argument.
import { lowerMedian } from "./median.js";

export const SAMPLES_PER_MODEL = 512;
export const SAMPLE_MAX_AGE_MS = 3_600_000;
/**
 * Models tracked at most: a node cycling made-up model names cannot grow this without bound. A new model replaces the
 * one sampled least recently, so names that are gone (whose p50 nobody asks for, so never forgotten by age) cannot
 * keep a later model from being measured.
 */
export const MAX_MODELS = 4_096;

interface Sample {
  at: number;
  ms: number;
}

export class LatencySamples {
  /** Per model, a ring of its latest samples; in the order models were last sampled, least recent first. */
  private readonly rings = new Map<string, { samples: Sample[]; next: number }>();

  add(model: string, ms: number, at: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    let ring = this.rings.get(model);
    if (ring) {
      this.rings.delete(model);
    } else {
      if (this.rings.size >= MAX_MODELS) this.rings.delete(this.rings.keys().next().value!);
      ring = { samples: [], next: 0 };
    }
    this.rings.set(model, ring);
    const sample = { at, ms };
    if (ring.samples.length < SAMPLES_PER_MODEL) ring.samples.push(sample);
    else ring.samples[ring.next] = sample;
    ring.next = (ring.next + 1) % SAMPLES_PER_MODEL;
  }

  /** The median of the model's samples from the last hour, ms; null with none. */
  p50(model: string, now: number): number | null {
    const ring = this.rings.get(model);
    if (!ring) return null;
    const recent = ring.samples.filter((s) => now - s.at <= SAMPLE_MAX_AGE_MS).map((s) => s.ms);
    if (recent.length === 0) {
      this.rings.delete(model);
      return null;
    }
    return lowerMedian(recent);
  }
}
