// Counts calls into Durable Objects per simulated second: by object kind and object name, and by kind and method
// (the breakdown a reader checks the figures against).

/** One kind of object as a counted window saw it; rates are calls per second averaged over the window. */
export interface KindLoad {
  kind: string;
  /** Objects of this kind called at least once in the window. */
  objects: number;
  totalPerSecond: number;
  /** The busiest object, and its busiest single second. */
  busiest: { name: string; perSecond: number; peakSecond: number };
  /** Calls per second into the whole kind, by method. */
  methods: Record<string, number>;
}

type BySecond = Map<number, number>;

function bump(map: Map<string, BySecond>, key: string, second: number): void {
  let bySecond = map.get(key);
  if (!bySecond) {
    bySecond = new Map();
    map.set(key, bySecond);
  }
  bySecond.set(second, (bySecond.get(second) ?? 0) + 1);
}

/** Calls in the whole seconds within [fromMs, toMs), and the most in any one of them. */
function inWindow(bySecond: BySecond | undefined, fromMs: number, toMs: number): { calls: number; peak: number } {
  let calls = 0;
  let peak = 0;
  for (const [second, n] of bySecond ?? []) {
    if (second * 1000 < fromMs || second * 1000 >= toMs) continue;
    calls += n;
    peak = Math.max(peak, n);
  }
  return { calls, peak };
}

export class RpcCounter {
  /** kind → object name → second → calls. */
  private readonly byName = new Map<string, Map<string, BySecond>>();
  /** kind → method → second → calls. */
  private readonly byMethod = new Map<string, Map<string, BySecond>>();

  count(kind: string, name: string, method: string, atMs: number): void {
    const second = Math.floor(atMs / 1000);
    for (const [map, key] of [
      [this.byName, name],
      [this.byMethod, method],
    ] as const) {
      let inner = map.get(kind);
      if (!inner) {
        inner = new Map();
        map.set(kind, inner);
      }
      bump(inner, key, second);
    }
  }

  /** Calls into one object in the window. */
  callsTo(kind: string, name: string, fromMs: number, toMs: number): number {
    return inWindow(this.byName.get(kind)?.get(name), fromMs, toMs).calls;
  }

  /** Every kind called in [fromMs, toMs) (whole simulated seconds), by kind name. */
  window(fromMs: number, toMs: number): KindLoad[] {
    const seconds = (toMs - fromMs) / 1000;
    const loads: KindLoad[] = [];
    for (const [kind, names] of [...this.byName].sort(([a], [b]) => a.localeCompare(b))) {
      let total = 0;
      let objects = 0;
      let busiest = { name: "", perSecond: -1, peakSecond: 0 };
      for (const [name, bySecond] of names) {
        const { calls, peak } = inWindow(bySecond, fromMs, toMs);
        if (calls === 0) continue;
        objects++;
        total += calls;
        if (calls / seconds > busiest.perSecond) busiest = { name, perSecond: calls / seconds, peakSecond: peak };
      }
      const methods: Record<string, number> = {};
      for (const [method, bySecond] of this.byMethod.get(kind) ?? []) {
        const { calls } = inWindow(bySecond, fromMs, toMs);
        if (calls > 0) methods[method] = calls / seconds;
      }
      if (objects > 0) loads.push({ kind, objects, totalPerSecond: total / seconds, busiest, methods });
    }
    return loads;
  }
}
