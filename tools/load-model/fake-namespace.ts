// A fake Durable Object namespace: `idFromName` / `get` as the Worker's code calls them, handing out stubs whose every
// method call is counted (kind, object name, simulated second), then answered by a small in-memory object after a
// simulated round trip. Half the round trip before the object runs, half after, as a real call would.
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
    await new Promise<void>((resolve) => clock.setTimeout(resolve, rttMs / 2));
    const object = this.object(name) as Record<string, unknown>;
    const fn = object[method];
    if (typeof fn !== "function") throw new Error(`${kind} has no method ${method}`);
    const result = await (fn as Method).apply(object, args);
    await new Promise<void>((resolve) => clock.setTimeout(resolve, rttMs / 2));
    return result;
  }
}
