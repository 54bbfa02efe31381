// A design, as the load model runs it: the objects behind the bindings, how one request makes its calls, and how an
// admin reads usage. runDesign builds the world, sends the traffic and counts; a new design is a new Design value.
import type { LoadConfig } from "./config.js";
import { backgroundContext } from "./isolate.js";
import { type DrawnRequest, drawRequest, poisson, seededRandom } from "./traffic.js";
import { buildWorld, type LoadKey, type ObjectFactories, type World } from "./world.js";

export interface Design {
  title: string;
  /** Where a run at the production figures writes its table, beside this module (e.g. "today.md"). */
  file: string;
  objects(keys: readonly LoadKey[]): ObjectFactories;
  /** One request, start to end: the calls the request path makes, in its order. */
  serve(world: World, drawn: DrawnRequest, n: number): Promise<void>;
  /** GET /admin/usage once. */
  adminUsage(world: World): Promise<void>;
}

export interface DesignRun {
  world: World;
  /** The counted window, simulated ms. */
  from: number;
  to: number;
}

/** Starts the arrivals: each simulated millisecond, a Poisson number of requests. */
function startTraffic(world: World, design: Design, until: number): void {
  const { config, clock } = world;
  const random = seededRandom(config.seed);
  const perMs = config.rps / 1000;
  let n = 0;
  const start = clock.now();
  for (let t = start; t < until; t++) {
    clock.setTimeout(() => {
      for (let k = poisson(perMs, random); k > 0; k--)
        backgroundContext.waitUntil(design.serve(world, drawRequest(config, random), n++));
    }, t - start);
  }
}

/** Builds the world, runs warm-up and the counted window; the caller reads world.counter, then closes the world. */
export async function runDesign(config: LoadConfig, design: Design): Promise<DesignRun> {
  const world = await buildWorld(config, (keys) => design.objects(keys));
  const { clock } = world;
  const from = clock.now() + config.warmupSeconds * 1000;
  const to = from + config.seconds * 1000;
  try {
    startTraffic(world, design, to);
    for (let t = from; t < to; t += config.adminUsageEveryMs)
      clock.setTimeout(() => backgroundContext.waitUntil(design.adminUsage(world)), t - clock.now());
    await clock.runUntil(to);
  } catch (err) {
    // The real clock back before anything else runs (tests share a process).
    world.close();
    throw err;
  }
  return { world, from, to };
}
