// Runs one policy against the mesh and workload on simulated time: each request's attempts (up to three, failing over
// to nodes not yet tried), every outcome applied to the routing table at once as the gateway does, churn, and a table
// refresh every simulated second (registry-feed.ts). One event queue; ties in time resolve in insertion order.
import { noteLoad, observeInTable, type Outcome, type RouteNode, type RoutingTable } from "@meshgate/worker/routing";
import { planAttempt, type AttemptPlan } from "./behaviour.js";
import { EventQueue } from "./event-queue.js";
import type { SimNode } from "./mesh.js";
import { MODEL, type Deployment, type Policy, type PolicyFactory, type World } from "./policy.js";
import { stream, STREAM, type Rng } from "./random.js";
import { Recorder } from "./recorder.js";
import { RegistryFeed, TABLE_REFRESH_MS, type TableOwner } from "./registry-feed.js";
import type { Workload } from "./workload.js";

export const MAX_ATTEMPTS = 3;

export interface RunSpec {
  seed: number;
  mesh: readonly SimNode[];
  workload: Workload;
  warmAt: number;
  endAt: number;
  /**
   * Gateway isolates the requests are spread over (round-robin), and the cells' settings. With the shared table each
   * isolate counts only its own open requests and they share one table (as if the registry merged outcomes at once),
   * so >1 shows what stale heartbeat load costs.
   */
  deployment: Deployment;
}

interface OpenRequest {
  seq: number;
  arrivalAt: number;
  tokens: number;
  attempts: number;
  exclude: Set<string> | null;
  decisionNs: number;
  measured: boolean;
  isolate: number;
}

type SimEvent =
  | { type: "arrival"; at: number; seq: number; index: number }
  | { type: "end"; at: number; seq: number; req: OpenRequest; node: number; dispatchAt: number; plan: AttemptPlan }
  | { type: "dispatch"; at: number; seq: number; req: OpenRequest; node: number }
  | { type: "action"; at: number; seq: number; action: () => void }
  | { type: "tick"; at: number; seq: number }
  | { type: "churn"; at: number; seq: number; node: number };

const NO_EXCLUDE: ReadonlySet<string> = new Set();

export interface RunResult {
  policy: Policy;
  recorder: Recorder;
}

export function runPolicy(spec: RunSpec, factory: PolicyFactory): RunResult {
  return new Simulation(spec, factory).run();
}

class Simulation implements World {
  readonly mesh: readonly SimNode[];
  now = 0;
  readonly random: () => number;
  /** As the Worker (mesh/local-load.ts): this isolate's own open requests plus the others' as last reported. */
  readonly load = (node: RouteNode): number => node.othersInFlight + (this.open.get(node.id) ?? 0);
  /** The deciding isolate's open requests per node, as the Worker keeps them (dispatch.ts). */
  private open: Map<string, number>;
  private readonly policy: Policy;
  private readonly feed: RegistryFeed;
  private readonly slots: Int32Array;
  private readonly opens: Map<string, number>[];
  private readonly ids = new Map<string, number>();
  private readonly behaviour: Rng[];
  private readonly queue = new EventQueue<SimEvent>();
  private readonly recorder: Recorder;
  private openRequests = 0;
  /** Time spent in `untimed` work during the current decision, ns. */
  private untimedNs = 0;

  constructor(
    private readonly spec: RunSpec,
    factory: PolicyFactory,
  ) {
    this.mesh = spec.mesh;
    this.feed = new RegistryFeed(spec.mesh);
    this.slots = new Int32Array(spec.mesh.length);
    this.behaviour = spec.mesh.map((n) => stream(spec.seed, STREAM.nodeBehaviour, n.index));
    for (const n of spec.mesh) this.ids.set(n.id, n.index);
    this.opens = Array.from({ length: Math.max(1, spec.deployment.isolates) }, () => new Map<string, number>());
    this.open = this.opens[0] ?? new Map();
    this.recorder = new Recorder(spec.mesh, spec.workload.arrivalAt.length, spec.warmAt, spec.endAt);
    this.random = stream(spec.seed, STREAM.policy).next;
    this.policy = factory(this, spec.deployment);
  }

  untimed(work: () => void): void {
    const t0 = process.hrtime.bigint();
    work();
    this.untimedNs += Number(process.hrtime.bigint() - t0);
  }

  schedule(at: number, action: () => void): void {
    this.queue.push({ type: "action", at: Math.max(at, this.now), seq: 0, action });
  }

  /** The policy keeps its own tables (cells): the shared one is neither built nor fed. */
  private get ownsTables(): boolean {
    return this.policy.onListing !== undefined;
  }

  indexOf(id: string): number {
    return this.ids.get(id) ?? -1;
  }

  get table(): RoutingTable {
    return this.feed.table;
  }

  route(index: number): RouteNode | null {
    return this.feed.route(index);
  }

  busy(index: number): number {
    return this.slots[index] ?? 0;
  }

  present(index: number): boolean {
    const node = this.mesh[index];
    return node !== undefined && node.joinAt <= this.now && this.now < node.goneAt;
  }

  run(): RunResult {
    for (const node of this.mesh) {
      if (node.joinAt === 0) this.join(node);
      else this.queue.push({ type: "churn", at: node.joinAt, seq: 0, node: node.index });
      if (node.goneAt !== Infinity) this.queue.push({ type: "churn", at: node.goneAt, seq: 0, node: node.index });
    }
    this.queue.push({ type: "tick", at: 0, seq: 0 });
    this.pushArrival(0);
    for (let e = this.queue.pop(); e; e = this.queue.pop()) {
      this.now = e.at;
      switch (e.type) {
        case "arrival":
          this.arrive(e.index);
          break;
        case "end":
          this.end(e.req, e.node, e.dispatchAt, e.plan);
          break;
        case "dispatch":
          this.dispatch(e.req, e.node);
          break;
        case "action":
          e.action();
          break;
        case "tick":
          this.tick();
          break;
        case "churn": {
          const node = this.mesh[e.node];
          if (node && e.at === node.joinAt) this.join(node);
          this.policy.onNodeChanged?.(e.node);
          break;
        }
      }
    }
    this.recorder.tableBuildMs.push(...this.feed.buildMs);
    return { policy: this.policy, recorder: this.recorder };
  }

  private join(node: SimNode): void {
    if (this.policy.usesRouter) this.feed.join(node);
  }

  private pushArrival(index: number): void {
    const at = this.spec.workload.arrivalAt[index];
    if (at !== undefined) this.queue.push({ type: "arrival", at, seq: 0, index });
  }

  private arrive(index: number): void {
    this.pushArrival(index + 1);
    this.openRequests++;
    const arrivalAt = this.now;
    const req: OpenRequest = {
      seq: index,
      arrivalAt,
      tokens: this.spec.workload.tokens[index] ?? 1,
      attempts: 0,
      exclude: null,
      decisionNs: 0,
      measured: this.recorder.measured(arrivalAt),
      isolate: index % this.opens.length,
    };
    this.attempt(req);
  }

  private attempt(req: OpenRequest): void {
    this.open = this.opens[req.isolate] ?? this.open;
    const query = { now: this.now, isolate: req.isolate, attempt: req.attempts, exclude: req.exclude ?? NO_EXCLUDE };
    this.untimedNs = 0;
    const t0 = process.hrtime.bigint();
    const chosen = this.policy.choose(query);
    req.decisionNs += Number(process.hrtime.bigint() - t0) - this.untimedNs;
    const index = chosen ? this.indexOf(chosen.id) : -1;
    if (!this.mesh[index]) {
      if (req.measured) this.recorder.failures.noNode++;
      this.finish(req, Infinity, null);
      return;
    }
    // A decision that took round trips (to cells) sends the request only once they are over.
    const waitMs = chosen?.waitMs ?? 0;
    if (waitMs > 0) this.queue.push({ type: "dispatch", at: this.now + waitMs, seq: 0, req, node: index });
    else this.dispatch(req, index);
  }

  private dispatch(req: OpenRequest, index: number): void {
    const node = this.mesh[index] ?? this.fail(`no node ${index}`);
    this.open = this.opens[req.isolate] ?? this.open;
    const busy = this.slots[index] ?? 0;
    if (req.measured) this.recorder.dispatch(node, busy, req.arrivalAt);
    const plan = planAttempt(
      node,
      busy,
      req.tokens,
      this.now,
      this.behaviour[index] ?? this.fail(`no stream for ${index}`),
    );
    req.attempts++;
    if (plan.occupies) this.changeSlots(index, 1);
    this.open.set(node.id, (this.open.get(node.id) ?? 0) + 1);
    this.noteLoad(node.id);
    this.queue.push({ type: "end", at: this.now + plan.endMs, seq: 0, req, node: index, dispatchAt: this.now, plan });
  }

  private end(req: OpenRequest, index: number, dispatchAt: number, plan: AttemptPlan): void {
    const node = this.mesh[index] ?? this.fail(`no node ${index}`);
    this.open = this.opens[req.isolate] ?? this.open;
    const open = this.open.get(node.id) ?? 1;
    if (open <= 1) this.open.delete(node.id);
    else this.open.set(node.id, open - 1);
    this.noteLoad(node.id);
    if (plan.occupies) this.changeSlots(index, -1);
    if (req.measured) this.recorder.outcome(plan.kind);
    if (this.policy.usesRouter) {
      const outcome: Outcome = {
        nodeId: node.id,
        model: MODEL,
        kind: plan.kind,
        at: this.now,
        ttftMs: plan.ttftMs,
        tokens: plan.tokens,
        streamMs: plan.streamMs,
        inFlight: open - 1,
        // Every simulated request is an ordinary one the router chose, from a client of its own: the evidence a
        // timeout needs to count (timeout-evidence.ts; the Worker also waits for another node to answer).
        client: `client-${req.seq}`,
      };
      if (!this.ownsTables) observeInTable(this.table, outcome);
      this.policy.onAttemptEnd?.(outcome, index, this.now);
      this.policy.onObserved?.(index, this.now);
    }
    if (plan.kind === "success") {
      this.finish(req, dispatchAt + (plan.firstTokenMs ?? plan.endMs), node);
      return;
    }
    // Tokens already reached the client: nothing can be retried without repeating them.
    if (plan.firstTokenMs !== null || req.attempts >= MAX_ATTEMPTS) {
      if (req.measured) this.recorder.failures[plan.firstTokenMs !== null ? "midStream" : "exhausted"]++;
      this.finish(req, Infinity, null);
      return;
    }
    req.exclude ??= new Set();
    req.exclude.add(node.id);
    this.attempt(req);
  }

  /** `firstTokenAt`: when the client got its first token; Infinity for a failed request. */
  private finish(req: OpenRequest, firstTokenAt: number, servedBy: SimNode | null): void {
    this.openRequests--;
    if (req.measured)
      this.recorder.request(
        req.seq,
        req.arrivalAt,
        firstTokenAt - req.arrivalAt,
        servedBy,
        req.attempts,
        req.decisionNs / 1000,
      );
  }

  /** As the Worker does (mesh/local-load.ts): a request sent or finished updates the node's weight in the table. */
  private noteLoad(nodeId: string): void {
    if (!this.policy.usesRouter || this.ownsTables) return;
    const route = this.table.nodes.get(nodeId);
    if (route) noteLoad(this.table, nodeId, this.load(route), this.now);
  }

  private changeSlots(index: number, delta: number): void {
    const busy = this.slots[index] ?? 0;
    this.recorder.slotsChanging(index, busy, this.now);
    this.slots[index] = busy + delta;
    this.policy.onNodeChanged?.(index);
  }

  private tick(): void {
    if (this.policy.usesRouter) {
      this.feed.refresh(
        this.now,
        (index) => this.slots[index] ?? 0,
        this.load,
        (node) => this.open.get(node.id) ?? 0,
        this.tableOwner(),
      );
      if (!this.ownsTables) this.policy.onTable?.(this.feed.table, this.now);
    }
    if (this.now + TABLE_REFRESH_MS < this.spec.endAt || this.openRequests > 0) {
      this.queue.push({ type: "tick", at: this.now + TABLE_REFRESH_MS, seq: 0 });
    }
  }

  private tableOwner(): TableOwner | null {
    const { onListing, tableOf } = this.policy;
    if (!onListing) return null;
    return {
      build: (listed, now) => onListing.call(this.policy, listed, now),
      tableOf: (route) => tableOf?.call(this.policy, route) ?? null,
    };
  }

  private fail(message: string): never {
    throw new Error(message);
  }
}
