import { DurableObject } from "cloudflare:workers";
import { NODE_TTL_MS, type AdvertisedModel, type Heartbeat } from "@meshgate/schemas";
import { challengeDelay } from "../../limits/challenge-backoff.js";
import { identitiesPerOrigin, identityOrigin, registrationRateLimit } from "../../limits/new-identities.js";
import { heartbeatRateLimit } from "../../limits/heartbeats.js";
import { fullBucket, retryAfterSeconds, take, type Bucket } from "../../limits/token-bucket.js";
import { groupBy } from "../../lib/group-by.js";
import { cellOf } from "../../routing/cells.js";
import { admissionCell, admissionCells } from "../names.js";
import { observe, observeProbe, type NodeState } from "../../routing/node-state.js";
import type { Outcome } from "../../routing/outcome.js";
import { isEjected, maxEjected } from "../../routing/outlier.js";
import { columnsFromState, stateFromColumns, withPerfOnly, type RoutingColumns } from "./routing-state.js";
import { NodeProbes } from "./probes.js";
import { MeshFigures } from "./mesh-figures.js";
import { allowedNodes } from "./route-nodes.js";
import { nodeUrlPolicy } from "../../limits/node-url-policy.js";
import { parsePriceCeilings } from "../../billing/price-ceiling.js";
import type { MeshStatus } from "../../catalog/mesh-status.js";
import { SessionRecords } from "./sessions.js";
import { migrate } from "../migrations.js";
import { REGISTRY_MIGRATIONS } from "./schema.js";
import {
  toRegistryNode,
  type AdminRegistryNode,
  type HeartbeatResult,
  type KeyRotation,
  type NodeRow,
  type Refusal,
  type RegistryNode,
  type RotationResult,
  type TrustRow,
  type VerifiedNodeSignature,
  type ProbeResult,
  type ProbeTarget,
  type SessionOpenResult,
  type SessionResume,
  type SessionStateResult,
  type SessionStateUpdate,
} from "./types.js";
import { banned, NodeTrust, replayedNonce, unknownKey } from "./trust.js";

/** How long one listing built for the admission cells' reads serves the others. */
const LISTING_REUSE_MS = 250;
/** A node's routine listing changes (models, capacity) reach its cell at most this often. */
const ROUTINE_CHANGE_GAP_MS = 10_000;

/** The node registry: who is live, where, with which key, serving what, how well, and who is banned. */
export class NodeRegistry extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly trust: NodeTrust;
  private readonly probes: NodeProbes;
  private readonly sessions: SessionRecords;
  private readonly figures: MeshFigures;
  private cellsOf: { cells: number; byNode: Map<string, number> } = { cells: 0, byNode: new Map() };
  /** When each node's last routine listing change was passed on (see listingChanged). */
  private readonly routineChanges = new Map<string, number>();
  /** The last listing built for the cells' reads (see cellSnapshot); dropped whenever the listing changes. */
  private listing: { builtAt: number; now: number; nodes: RegistryNode[] } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, REGISTRY_MIGRATIONS);
    this.trust = new NodeTrust(this.sql, {
      registrations: registrationRateLimit(env),
      perOrigin: identitiesPerOrigin(env),
    });
    this.probes = new NodeProbes(this.sql);
    this.sessions = new SessionRecords(this.sql);
    this.figures = new MeshFigures(this.sql);
  }

  /**
   * Registers or refreshes a node after the Worker verified the signature. Checks, in order: the key is the node's
   * current one (or, for a new node, the one its id names), neither the node nor its URL's origin is banned, a URL
   * still to be proven is at an origin with room for another identity, a new node's source address (`source`, see
   * new-identities.ts) is within its registration rate, the nonce is new, the node is within its rate, and the
   * sequence number increases. All in one synchronous step, so atomic; the new-identity limits come before anything
   * is written and before the challenge the Worker would send.
   */
  heartbeat(hb: Heartbeat, signature: VerifiedNodeSignature, now: number, source: string): HeartbeatResult {
    this.trust.prune(now);
    const prev = this.row(hb.node_id);
    const keyRefusal = this.trust.checkKey(hb.node_id, prev, signature.keyId);
    if (keyRefusal) return { ok: false, refusal: keyRefusal };
    if (prev?.banned_at != null) return { ok: false, refusal: banned(prev.ban_reason) };
    if (this.trust.originBanned(hb.url)) return { ok: false, refusal: banned("this URL belongs to a banned node") };
    const identityRefusal = this.newIdentityRefusal(hb, prev, source, now);
    if (identityRefusal) return { ok: false, refusal: identityRefusal };
    if (!this.trust.claimNonce(signature)) return { ok: false, refusal: replayedNonce() };
    let bucket: Bucket | null = null;
    if (prev) {
      const taken = this.takeToken(prev, now);
      if (!taken.ok) return { ok: false, refusal: taken.refusal };
      bucket = taken.bucket;
      if (hb.seq <= prev.seq) {
        return {
          ok: false,
          refusal: {
            status: 409,
            code: "replayed_heartbeat",
            message: `heartbeat sequence ${hb.seq} is not above the last accepted (${prev.seq})`,
          },
        };
      }
    }
    const models = JSON.stringify(hb.models);
    // A URL is routable only while it is the one proven; any change (even back to an older one) needs a new proof.
    const verifiedUrl = prev && prev.url === hb.url ? prev.verified_url : null;
    const verified = verifiedUrl === hb.url;
    // Challenges back off per node and do not restart when the URL changes, so flapping URLs buy no extra requests.
    const failed = prev?.challenges ?? 0;
    const lastChallenge = prev?.challenge_at ?? null;
    const challenge = !verified && (lastChallenge === null || now - lastChallenge >= challengeDelay(failed));
    const challengeAt = challenge ? now : lastChallenge;
    const challenges = challenge ? failed + 1 : failed;
    this.heartbeatChanges(hb, prev, models, verifiedUrl, now);
    if (prev && bucket) {
      this.sql.exec(
        `UPDATE nodes SET url = ?, origin = ?, verified_url = ?, models = ?, capacity = ?, in_flight = ?, last_heartbeat = ?, seq = ?, challenge_at = ?,
         challenges = ?, hb_level = ?, hb_at = ? WHERE id = ?`,
        hb.url,
        identityOrigin(hb.url),
        verifiedUrl,
        models,
        hb.capacity,
        hb.in_flight,
        now,
        hb.seq,
        challengeAt,
        challenges,
        bucket.level,
        bucket.at,
        hb.node_id,
      );
    } else {
      const first = this.firstToken(now);
      this.sql.exec(
        `INSERT INTO nodes (id, keyid, public_key, url, origin, challenge_at, challenges, models, capacity, in_flight, last_heartbeat, seq, registered,
         rep_at, hb_level, hb_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        hb.node_id,
        signature.keyId,
        signature.publicKey,
        hb.url,
        identityOrigin(hb.url),
        challengeAt,
        challenges,
        models,
        hb.capacity,
        hb.in_flight,
        now,
        hb.seq,
        now,
        now,
        first.level,
        first.at,
      );
    }
    return { ok: true, registered: !prev, status: verified ? "active" : "pending_verification", challenge };
  }

  /**
   * A node dialled in (durable/node-session; the Worker verified the upgrade's signature). A heartbeat's checks less
   * the URL's: the key, a ban, a new node's registration rate, the nonce, the node's message rate. A new node is not
   * live until its session's first state (sessionState); a known one reconnecting is live at once with `resume`.
   */
  openSession(
    nodeId: string,
    signature: VerifiedNodeSignature,
    now: number,
    source: string,
    resume: SessionResume | null = null,
  ): SessionOpenResult {
    this.trust.prune(now);
    const prev = this.row(nodeId);
    const keyRefusal = this.trust.checkKey(nodeId, prev, signature.keyId);
    if (keyRefusal) return { ok: false, refusal: keyRefusal };
    if (prev?.banned_at != null) return { ok: false, refusal: banned(prev.ban_reason) };
    const registration = prev ? null : this.trust.takeRegistration(source, now);
    if (registration) return { ok: false, refusal: registration };
    if (!this.trust.claimNonce(signature)) return { ok: false, refusal: replayedNonce() };
    if (!prev) {
      this.sessions.insertNode(nodeId, signature.keyId, signature.publicKey, this.firstToken(now), now);
      return { ok: true, registered: true, live: false };
    }
    const taken = this.takeToken(prev, now);
    if (!taken.ok) return { ok: false, refusal: taken.refusal };
    if (resume && this.sessions.applyState(nodeId, resume.session, resume.state, taken.bucket, now)) {
      this.listingChanged(nodeId, now);
      return { ok: true, registered: false, live: true };
    }
    this.sessions.saveBucket(nodeId, taken.bucket);
    return { ok: true, registered: false, live: false };
  }

  /**
   * The node's session `session` (already checked against the price ceilings) says what it serves: live from now,
   * reached through the session. Counts against the node's message rate.
   */
  sessionState(nodeId: string, session: number, state: SessionStateUpdate, now: number): SessionStateResult {
    const prev = this.row(nodeId);
    if (!prev) return { ok: false, refusal: unknownKey() };
    if (prev.banned_at !== null) return { ok: false, refusal: banned(prev.ban_reason) };
    const taken = this.takeToken(prev, now);
    if (!taken.ok) return { ok: false, refusal: taken.refusal };
    // The first state of a session makes the node live through it: news for its cell at once, not a routine change.
    const live = this.sql
      .exec<{ session_seq: number; session_open: number }>(
        "SELECT session_seq, session_open FROM nodes WHERE id = ?",
        nodeId,
      )
      .toArray()[0];
    const joined = !live || live.session_open === 0 || live.session_seq !== session;
    if (!this.sessions.applyState(nodeId, session, state, taken.bucket, now))
      return {
        ok: false,
        refusal: { status: 409, code: "session_replaced", message: "a newer session of this node is open" },
      };
    this.listingChanged(nodeId, now, joined ? "membership" : "routine");
    return { ok: true };
  }

  /** The node's session `session` ended: the node is not live any more (unless a newer session is open). */
  sessionClosed(nodeId: string, session: number, now: number): void {
    this.sessions.close(nodeId, session, now);
    this.listingChanged(nodeId, now);
  }

  /**
   * Records that the node answered a challenge at `url` with its current key; false if either changed meanwhile, or if
   * other identities filled the URL's origin meanwhile (challenges run concurrently).
   */
  endpointProven(nodeId: string, url: string, keyId: string, now: number): boolean {
    if (!this.trust.originHasRoom(url, nodeId, now)) return false;
    const cursor = this.sql.exec(
      "UPDATE nodes SET verified_url = url, challenges = 0, challenge_at = NULL WHERE id = ? AND url = ? AND keyid = ?",
      nodeId,
      url,
      keyId,
    );
    if (cursor.rowsWritten === 0) return false;
    this.listingChanged(nodeId, now);
    return true;
  }

  /** Moves a node to a new key. The old key is refused from now on; the node's id, reputation and history stay. */
  rotateKey(rotation: KeyRotation, now: number): RotationResult {
    const { nodeId, signature, newKeyId, newPublicKey } = rotation;
    const prev = this.row(nodeId);
    // A retry of a rotation that was applied but whose answer was lost: the node already has the new key.
    if (prev && prev.keyid === newKeyId && this.trust.keyRetiredFor(signature.keyId, nodeId)) return { ok: true };
    const keyRefusal = this.trust.checkKey(nodeId, prev, signature.keyId);
    if (keyRefusal || !prev) return { ok: false, refusal: keyRefusal ?? unknownKey() };
    if (prev.banned_at !== null) return { ok: false, refusal: banned(prev.ban_reason) };
    if (!this.trust.claimNonce(signature)) return { ok: false, refusal: replayedNonce() };
    // Rotations spend heartbeat tokens: each leaves a retired key behind for good.
    const taken = this.takeToken(prev, now);
    if (!taken.ok) return { ok: false, refusal: taken.refusal };
    if (this.trust.keyKnown(newKeyId)) {
      return {
        ok: false,
        refusal: { status: 409, code: "key_in_use", message: "the new key is already, or was once, some node's key" },
      };
    }
    this.sql.exec(
      "UPDATE nodes SET keyid = ?, public_key = ?, hb_level = ?, hb_at = ? WHERE id = ?",
      newKeyId,
      newPublicKey,
      taken.bucket.level,
      taken.bucket.at,
      nodeId,
    );
    this.trust.retireKey(signature.keyId, nodeId, now);
    this.listingChanged(nodeId, now);
    return { ok: true };
  }

  /**
   * Bans the node and the URL origin it proved: an operator with a fresh key cannot bring the same server back.
   * False when no such node is registered.
   */
  ban(nodeId: string, reason: string | null, now: number): boolean {
    const row = this.sql
      .exec<{ verified_url: string | null }>("SELECT verified_url FROM nodes WHERE id = ?", nodeId)
      .toArray()[0];
    if (!row) return false;
    this.sql.exec("UPDATE nodes SET banned_at = ?, ban_reason = ? WHERE id = ?", now, reason, nodeId);
    if (row.verified_url !== null) this.trust.banOrigin(row.verified_url, nodeId, now);
    this.listingChanged(nodeId, now);
    return true;
  }

  unban(nodeId: string): boolean {
    this.trust.unbanOrigins(nodeId);
    const unbanned =
      this.sql.exec("UPDATE nodes SET banned_at = NULL, ban_reason = NULL WHERE id = ?", nodeId).rowsWritten > 0;
    if (unbanned) this.listingChanged(nodeId, Date.now());
    return unbanned;
  }

  /** Nodes that may get traffic, not banned: heartbeated within the TTL and proved their URL, or in session. */
  snapshot(now: number): RegistryNode[] {
    const rows = this.sql
      .exec<NodeRow>(
        "SELECT * FROM nodes WHERE banned_at IS NULL AND ((last_heartbeat >= ? AND verified_url = url) OR " +
          "session_open = 1) ORDER BY id",
        now - NODE_TTL_MS,
      )
      .toArray();
    const probes = this.probes.all();
    return rows.map((r) => toRegistryNode(r, now, probes.get(r.id) ?? null));
  }

  /**
   * The part of the snapshot one admission cell decides for (routing/cells.ts): what each cell reads every second,
   * so the registry answers a read per cell, not per isolate.
   */
  cellSnapshot(cell: number, cells: number, now: number): RegistryNode[] {
    // Every cell reads about once a second: one listing built serves all of them for a moment.
    const wall = Date.now();
    if (!this.listing || wall - this.listing.builtAt >= LISTING_REUSE_MS || this.listing.now > now)
      this.listing = { builtAt: wall, now, nodes: this.snapshot(now) };
    return this.listing.nodes.filter((n) => this.cellOf(n.id, cells) === cell);
  }

  /**
   * The status page's figures and the model list: live nodes (as routing may use them), their models, the last
   * hour's traffic. A few kilobytes whatever the number of nodes; one build serves reads for a few seconds.
   */
  meshStatus(now: number): MeshStatus {
    const ceilings = parsePriceCeilings(this.env.PRICE_CEILINGS);
    if ("error" in ceilings) throw new Error(ceilings.error);
    return this.figures.status(() => allowedNodes(this.snapshot(now), nodeUrlPolicy(this.env)), ceilings, now);
  }

  /** Every node, for the admin API. */
  list(now: number): AdminRegistryNode[] {
    const probes = this.probes.all();
    return this.sql
      .exec<NodeRow>("SELECT * FROM nodes ORDER BY registered, id")
      .toArray()
      .map((r) => ({
        ...toRegistryNode(r, now, probes.get(r.id) ?? null),
        live: r.session_open === 1 || r.last_heartbeat >= now - NODE_TTL_MS,
        endpoint_verified: r.verified_url === r.url,
        banned: r.banned_at !== null,
        ban_reason: r.ban_reason,
      }));
  }

  /** Up to `limit` nodes for the health probes: those that may get traffic, least recently probed first. */
  probeTargets(now: number, limit: number): ProbeTarget[] {
    return this.probes.targets(now, limit);
  }

  /** Stores a run's probe results; a node the probe could not reach is ejected from routing (outlier rules). */
  recordProbes(results: ProbeResult[], now: number): void {
    this.probes.record(results);
    const ejection = this.ejectionBudget(now);
    for (const result of results) {
      if (result.reachable) continue;
      const r = this.sql
        .exec<RoutingColumns>(
          "SELECT rep_s, rep_f, rep_at, routing, ejected_until FROM nodes WHERE id = ?",
          result.nodeId,
        )
        .toArray()[0];
      if (!r || isEjected(stateFromColumns(r).outlier, now)) continue;
      const state = observeProbe(stateFromColumns(r), false, now, ejection.ejected < ejection.max);
      if (isEjected(state.outlier, now)) ejection.ejected++;
      this.writeState(result.nodeId, state, 0);
    }
  }

  /**
   * Folds a batch of outcomes (from every isolate) into each node's routing state: one read and one write per node.
   * Ejections stop at the cap on ejected nodes, counted over the live ones.
   */
  recordOutcomes(outcomes: Outcome[], now: number): void {
    this.figures.observe(outcomes, now);
    const ejection = this.ejectionBudget(now);
    for (const [nodeId, list] of groupBy(outcomes, (o) => o.nodeId)) {
      const r = this.sql
        .exec<RoutingColumns & { capacity: number; models: string }>(
          "SELECT rep_s, rep_f, rep_at, routing, ejected_until, capacity, models FROM nodes WHERE id = ?",
          nodeId,
        )
        .toArray()[0];
      if (!r) continue;
      // Only models the node still advertises keep their estimates: a node cycling model names cannot grow its row.
      let state = withPerfOnly(
        stateFromColumns(r),
        (JSON.parse(r.models) as AdvertisedModel[]).map((m) => m.id),
      );
      for (const o of list.sort((a, b) => a.at - b.at)) {
        const wasEjected = isEjected(state.outlier, o.at);
        state = observe(state, o, { declaredCapacity: r.capacity, mayEject: ejection.ejected < ejection.max });
        if (!wasEjected && isEjected(state.outlier, o.at)) ejection.ejected++;
      }
      this.writeState(nodeId, state, list.length);
    }
  }

  /** What a heartbeat changed for routing: a node new, back, at a new proven URL, or serving other models or slots. */
  private heartbeatChanges(
    hb: Heartbeat,
    prev: TrustRow | undefined,
    models: string,
    verifiedUrl: string | null,
    now: number,
  ): void {
    if (!prev || prev.last_heartbeat < now - NODE_TTL_MS || prev.verified_url !== verifiedUrl)
      this.listingChanged(hb.node_id, now);
    else if (prev.models !== models || prev.capacity !== hb.capacity) this.listingChanged(hb.node_id, now, "routine");
  }

  /**
   * The node joined, left, or changed what it serves, its capacity, URL or key: its admission cell reads the listing
   * again before its next grant rather than up to a second later. A "routine" change (models or capacity, which a node
   * may flip on every message) is passed on at most once per node per ROUTINE_CHANGE_GAP_MS: between, the cell's own
   * reading every second picks it up, and a node cannot make its cell read the registry on every request.
   */
  private listingChanged(nodeId: string, now: number, kind: "membership" | "routine" = "membership"): void {
    if (kind === "routine") {
      if (now - (this.routineChanges.get(nodeId) ?? -Infinity) < ROUTINE_CHANGE_GAP_MS) return;
      if (this.routineChanges.size >= 100_000) this.routineChanges.clear();
      this.routineChanges.set(nodeId, now);
    }
    this.listing = null;
    this.figures.listingChanged();
    const cells = admissionCells(this.env);
    this.ctx.waitUntil(
      admissionCell(this.env, this.cellOf(nodeId, cells))
        .invalidate()
        .catch((err: unknown) => console.error("telling an admission cell of a listing change failed", String(err))),
    );
  }

  /** A node's cell, remembered for the current number of cells (a hash per cell per node is too much per read). */
  private cellOf(nodeId: string, cells: number): number {
    // Rebuilt when the number of cells changes, and now and then as nodes come and go (ids are never forgotten here).
    if (this.cellsOf.cells !== cells || this.cellsOf.byNode.size > 200_000) this.cellsOf = { cells, byNode: new Map() };
    let cell = this.cellsOf.byNode.get(nodeId);
    if (cell === undefined) {
      cell = cellOf(nodeId, cells);
      this.cellsOf.byNode.set(nodeId, cell);
    }
    return cell;
  }

  private ejectionBudget(now: number): { ejected: number; max: number } {
    const counts = this.sql
      .exec<{ live: number; ejected: number }>(
        "SELECT COUNT(*) AS live, COALESCE(SUM(ejected_until > ?), 0) AS ejected FROM nodes WHERE (last_heartbeat >= " +
          "? OR session_open = 1) AND banned_at IS NULL",
        now,
        now - NODE_TTL_MS,
      )
      .one();
    return { ejected: counts.ejected, max: maxEjected(counts.live) };
  }

  private writeState(nodeId: string, state: NodeState, requests: number): void {
    const c = columnsFromState(state);
    this.sql.exec(
      "UPDATE nodes SET rep_s = ?, rep_f = ?, rep_at = ?, routing = ?, ejected_until = ?, requests = requests + ? " +
        "WHERE id = ?",
      c.rep_s,
      c.rep_f,
      c.rep_at,
      c.routing,
      c.ejected_until,
      requests,
      nodeId,
    );
  }

  /**
   * A URL not yet proven by this node adds an identity at its origin (and costs a challenge): refused when the origin
   * is full. A new node costs its source address a registration token.
   */
  private newIdentityRefusal(hb: Heartbeat, prev: TrustRow | undefined, source: string, now: number): Refusal | null {
    const proven = prev !== undefined && prev.url === hb.url && prev.verified_url === hb.url;
    if (!proven && !this.trust.originHasRoom(hb.url, hb.node_id, now)) return this.trust.originFull(hb.url);
    return prev ? null : this.trust.takeRegistration(source, now);
  }

  /** The columns a heartbeat or rotation checks; not the models list, which is most of a row. */
  private row(nodeId: string): TrustRow | undefined {
    return this.sql
      .exec<TrustRow>(
        "SELECT keyid, url, verified_url, challenge_at, challenges, seq, banned_at, ban_reason, hb_level, hb_at, " +
          "last_heartbeat, models, capacity FROM nodes WHERE id = ?",
        nodeId,
      )
      .toArray()[0];
  }

  private takeToken(row: TrustRow, now: number): { ok: true; bucket: Bucket } | { ok: false; refusal: Refusal } {
    const taken = take({ level: row.hb_level, at: row.hb_at }, heartbeatRateLimit(this.env), 1, now);
    if (taken.ok) return taken;
    // A limit's burst is at least one token, so one always fits in time.
    const seconds = retryAfterSeconds(taken.waitMs ?? 0);
    return {
      ok: false,
      refusal: {
        status: 429,
        code: "rate_limited",
        message: `too many messages from this node; retry after ${seconds} s`,
        retryAfterSeconds: seconds,
      },
    };
  }

  /** A new node's bucket: full, less the token its first heartbeat takes. */
  private firstToken(now: number): Bucket {
    const limit = heartbeatRateLimit(this.env);
    const full = fullBucket(limit, now);
    return { level: full.level - limit.periodMs, at: full.at };
  }
}
