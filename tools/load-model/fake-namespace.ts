// A fake Durable Object namespace: `idFromName` / `get` as the Worker's code calls them, handing out stubs whose every
// method call is counted (kind, object name, simulated second), then answered by a small in-memory object after a
// simulated round trip.
import type { RpcCounter } from "./rpc-counter.js";
import type { SimClock } from "./sim-clock.js";

/** An object's in-memory behaviour: its RPC methods, by name. */
export type ObjectBehaviour = object;

export interface NamespaceOptions {
  kind: string;
  counter: RpcCounter;
  clock: SimClock;
  /** Round trip of one call, simulated ms. */
  rttMs: number;
  /** The object behind a name, made on its first call. */
  create(name: string): ObjectBehaviour;
}

type Method = (...args: unknown[]) => unknown;

export class FakeNamespace {
  private readonly objects = new Map<string, ObjectBehaviour>();
  private readonly stubs = new Map<string, object>();

  constructor(private readonly opts: NamespaceOptions) {}

  idFromName(name: string): { name: string } {
    return { name };
  }

  get(id: { name: string }): object {
    let stub = this.stubs.get(id.name);
    if (!stub) {
      stub = this.stubFor(id.name);
      this.stubs.set(id.name, stub);
    }
    return stub;
  }

  /** The in-memory object behind a name (tests and drivers look inside). */
  object(name: string): ObjectBehaviour {
    let object = this.objects.get(name);
    if (!object) {
      object = this.opts.create(name);
      this.objects.set(name, object);
    }
    return object;
  }

  private stubFor(name: string): object {
    // A Proxy, as the runtime's stubs are: any method name is a call; `then` is not (a stub is not a promise).
    return new Proxy(
      {},
      {
        get: (_target, prop) => {
          if (typeof prop !== "string" || prop === "then") return undefined;
          return (...args: unknown[]) => this.call(name, prop, args);
        },
      },
    );
  }

  private async call(name: string, method: string, args: unknown[]): Promise<unknown> {
    const { counter, clock, kind, rttMs } = this.opts;
    counter.count(kind, name, method, clock.now());
    // The whole round trip before the object runs, then its answer at once: one timer per call rather than two (a
    // full run makes millions of calls), and when within the round trip the object runs changes no count.
    await new Promise<void>((resolve) => clock.setTimeout(resolve, rttMs));
    const object = this.object(name) as Record<string, unknown>;
    const fn = object[method];
    if (typeof fn !== "function") throw new Error(`${kind} has no method ${method}`);
    return (fn as Method).apply(object, args);
  }
}
