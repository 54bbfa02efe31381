// The whole heartbeat path through the production gateway: signed heartbeats accepted per second when every one goes
// HTTP → Worker (RFC 9421 verify with WebCrypto, parse) → one RPC to the single NodeRegistry Durable Object (nonce,
// rate-limit token, sequence, upsert) → ack. Nodes are simulated here (real keys, real signatures); one small HTTP
// server answers the gateway's endpoint challenges for all of them, so timed rounds see proven nodes only.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ENDPOINT_PROOF_PATH, type AdminNode, type HeartbeatAck } from "@meshgate/schemas";
import {
  endpointProof,
  newTestNode,
  signedHeartbeat,
  type SignedRequest,
  type TestNode,
} from "../../e2e/support/heartbeat.js";
import { generateDevVars } from "../../gateway/dev-vars.js";
import { startGateway, type Gateway } from "../../gateway/gateway.js";
import { machineOrNull, processMeter, selfMeter, type CpuMeter } from "../cpu.js";
import {
  heartbeatPathResult,
  mountFsType,
  pathRate,
  type DoStorage,
  type HeartbeatPathOptions,
  type HeartbeatPathResult,
  type PathClient,
  type PathRound,
} from "./path-format.js";

export {
  formatHeartbeatPath,
  type HeartbeatPathOptions,
  type HeartbeatPathResult,
  type PathClient,
} from "./path-format.js";

const MODELS = ["llama-3.1-8b-instruct", "qwen2.5-7b-instruct"];
/**
 * A new node's bucket starts with burst-1 = 9 tokens (default 60/min, burst 10); registration and the untimed steady
 * round take one each before timing, so 8 timed rounds fit even with no refill. Beyond that the limit is raised:
 * the registry still takes a token per heartbeat either way, so the work measured is the same.
 */
const ROUNDS_WITHIN_DEFAULT_LIMIT = 8;
const RAISED_RATE_LIMIT = "6000/1000";
/** Signatures expire 30 s after `created`; sign at most ~10 s of sending ahead, so none is near expiry when sent. */
const SIGN_AHEAD_SECONDS = 10;
const VERIFY_TIMEOUT_MS = 120_000;
/**
 * The registry's CHALLENGE_RETRY_MS (worker/src/durable/node-registry/node-registry.ts), not imported: that module
 * needs workerd.
 */
const CHALLENGE_RETRY_MS = 10_000;
const REGISTER_BATCH = 200;

interface BenchNode {
  node: TestNode;
  /** The URL it advertises: the shared responder, with a per-node path so each node's URL is its own. */
  url: string;
  seq: number;
  /** When its last heartbeat was signed (ms since the epoch). */
  sentAt: number;
}

/** Answers POST /meshgate/endpoint-proof for every bench node, as each node's agent would. */
interface Responder {
  url: string;
  answered: () => number;
  hasAnswered: (nodeId: string) => boolean;
  close: () => Promise<void>;
}

async function startResponder(nodes: ReadonlyMap<string, BenchNode>): Promise<Responder> {
  let answered = 0;
  const answeredIds = new Set<string>();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let nodeId: unknown;
    try {
      nodeId = (JSON.parse(body) as { node_id?: unknown }).node_id;
    } catch {
      nodeId = undefined;
    }
    const bench = typeof nodeId === "string" ? nodes.get(nodeId) : undefined;
    const proof =
      req.method === "POST" && req.url === ENDPOINT_PROOF_PATH && bench
        ? await endpointProof(bench.node, bench.url, body)
        : null;
    if (!proof || !bench) {
      res.writeHead(404).end();
      return;
    }
    answered++;
    answeredIds.add(bench.node.id);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(proof));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.writeHead(500).end(err instanceof Error ? err.message : String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
    // Node's default 5 s keep-alive races workerd reusing an idle connection ("Network connection lost").
    server.keepAliveTimeout = 120_000;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered: () => answered,
    hasAnswered: (nodeId) => answeredIds.has(nodeId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every node's next heartbeat, signed now (untimed); `seq` is a per-node counter, so it strictly increases. */
function signAll(gateway: Gateway, nodes: readonly BenchNode[]): Promise<SignedRequest[]> {
  const now = Date.now();
  return Promise.all(
    nodes.map((n) => {
      n.sentAt = now;
      return signedHeartbeat(gateway.url, n.node, { url: n.url, models: MODELS, seq: ++n.seq, now });
    }),
  );
}

interface Answer {
  status: number;
  text: string;
}

type Post = (request: SignedRequest) => Promise<Answer>;

interface Poster {
  post: Post;
  close: () => void;
}

async function postWithFetch(request: SignedRequest): Promise<Answer> {
  const res = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
  return { status: res.status, text: await res.text() };
}

/** fetch (undici's own pool), or node:http on a keep-alive pool of `concurrency` sockets. */
function poster(client: PathClient, concurrency: number): Poster {
  if (client === "fetch") return { post: postWithFetch, close: () => undefined };
  // workerd closes a connection idle for 5 s (by its clock, which lags when it is busy); a request written to one just
  // then fails ("socket hang up"). FIFO reuse keeps every socket busy, and the pool drops one idle for 2 s first.
  const agent = new Agent({
    keepAlive: true,
    maxSockets: concurrency,
    maxFreeSockets: concurrency,
    noDelay: true,
    timeout: 2_000,
    scheduling: "fifo",
  });
  const post: Post = (signed) =>
    new Promise<Answer>((resolve, reject) => {
      const headers: Record<string, string> = Object.fromEntries(signed.headers);
      headers["content-length"] = String(signed.body.byteLength);
      const req = httpRequest(signed.url, { method: "POST", agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      const sentAt = performance.now();
      req.on("error", (err) => {
        const socket = req.reusedSocket ? "reused" : "new";
        reject(
          new Error(
            `POST ${signed.url}: ${err.message} (${socket} socket, after ${Math.round(performance.now() - sentAt)} ms)`,
            { cause: err },
          ),
        );
      });
      req.end(signed.body);
    });
  return { post, close: () => agent.destroy() };
}

interface Sent {
  seconds: number;
  latenciesMs: number[];
}

/**
 * Sends `requests` through `concurrency` workers pulling from one queue. Every answer must be a 200 ack for the
 * right node, or the rate means nothing; `expectActive` also demands the node be proven (steady state).
 */
async function sendAll(
  post: Post,
  requests: readonly SignedRequest[],
  concurrency: number,
  expectActive: boolean,
): Promise<Sent> {
  const latenciesMs: number[] = new Array<number>(requests.length);
  let next = 0;
  let failure: Error | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < requests.length) {
      const index = next++;
      const request = requests[index];
      if (!request) break;
      const started = performance.now();
      const { status, text } = await post(request);
      latenciesMs[index] = performance.now() - started;
      if (status !== 200) {
        failure ??= new Error(`heartbeat ${index} answered ${status}: ${text}`);
        break;
      }
      if (expectActive) {
        const ack = JSON.parse(text) as HeartbeatAck;
        if (ack.status !== "active")
          failure ??= new Error(`heartbeat ${index} acked a node that is ${ack.status}, not active: ${text}`);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failure !== null) throw failure;
  return { seconds, latenciesMs };
}

async function adminNodes(gateway: Gateway, adminToken: string): Promise<AdminNode[]> {
  const res = await fetch(`${gateway.url}/admin/nodes`, { headers: { authorization: `Bearer ${adminToken}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET /admin/nodes answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { data: AdminNode[] }).data;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Registers every node, untimed, and waits until each has proved its endpoint. Registrations go in batches, each
 * followed by a short wait for its challenges: thousands of challenges in flight at once time out (5 s) on a small
 * machine, and the gateway re-challenges a node only on a heartbeat at least CHALLENGE_RETRY_MS later, which this
 * then sends to any node still unproven (the wait refills its rate-limit bucket, so timed rounds are unaffected).
 */
async function registerAll(
  gateway: Gateway,
  post: Post,
  bench: readonly BenchNode[],
  responder: Responder,
  adminToken: string,
  concurrency: number,
  progress: (line: string) => void,
): Promise<void> {
  for (let first = 0; first < bench.length; first += REGISTER_BATCH) {
    const batch = bench.slice(first, first + REGISTER_BATCH);
    await sendAll(post, await signAll(gateway, batch), concurrency, false);
    const until = Date.now() + 10_000;
    while (Date.now() < until && !batch.every((n) => responder.hasAnswered(n.node.id))) await sleep(20);
  }
  const deadline = Date.now() + VERIFY_TIMEOUT_MS;
  let lastReported = -1;
  for (;;) {
    const verified = new Set(
      (await adminNodes(gateway, adminToken)).filter((n) => n.endpoint_verified).map((n) => n.id),
    );
    const unproven = bench.filter((n) => !verified.has(n.node.id));
    if (unproven.length === 0) return;
    if (unproven.length !== lastReported)
      progress(`heartbeat path: ${bench.length - unproven.length}/${bench.length} nodes endpoint-verified`);
    lastReported = unproven.length;
    if (Date.now() > deadline)
      throw new Error(
        `${unproven.length} of ${bench.length} nodes did not prove their endpoint within ${VERIFY_TIMEOUT_MS / 1000} s`,
      );
    const due = unproven.filter((n) => Date.now() - n.sentAt > CHALLENGE_RETRY_MS + 1_000);
    for (let first = 0; first < due.length; first += REGISTER_BATCH) {
      await sendAll(post, await signAll(gateway, due.slice(first, first + REGISTER_BATCH)), concurrency, false);
    }
    await sleep(500);
  }
}

/** A CPU reading summed over timed spans only, so signing and waiting between chunks do not count. */
function spanMeter(meter: CpuMeter | null): { start: () => void; stop: () => void; total: () => number | null } {
  let total = 0;
  let since = 0;
  return {
    start: () => {
      since = meter?.read() ?? 0;
    },
    stop: () => {
      total += (meter?.read() ?? 0) - since;
    },
    total: () => (meter === null ? null : total),
  };
}

/** `dir`, or where Miniflare puts non-persisted Durable Object storage: a fresh directory under os.tmpdir(). */
function doStorage(dir: string = realpathSync(tmpdir())): DoStorage {
  try {
    return { dir, fsType: mountFsType(dir, readFileSync("/proc/mounts", "utf8")) };
  } catch {
    return { dir, fsType: null };
  }
}

export async function heartbeatPathPhase(
  opts: HeartbeatPathOptions,
  progress: (line: string) => void,
): Promise<HeartbeatPathResult> {
  for (const name of ["nodes", "rounds", "concurrency"] as const) {
    if (!Number.isSafeInteger(opts[name]) || opts[name] < 1)
      throw new Error(`heartbeat path: ${name} must be a positive integer`);
  }
  // No cf.json download when Miniflare starts (startGateway also passes cf: false).
  process.env["CLOUDFLARE_CF_FETCH_ENABLED"] ??= "false";
  progress(`heartbeat path: generating ${opts.nodes} node keys`);
  const bench: BenchNode[] = [];
  const byId = new Map<string, BenchNode>();
  for (let i = 0; i < opts.nodes; i++) {
    const node: BenchNode = { node: await newTestNode(), url: "", seq: 0, sentAt: 0 };
    bench.push(node);
    byId.set(node.node.id, node);
  }
  const responder = await startResponder(byId);
  for (const [i, n] of bench.entries()) n.url = `${responder.url}/bench-node/${i}`;

  const rateLimit = opts.rounds > ROUNDS_WITHIN_DEFAULT_LIMIT ? RAISED_RATE_LIMIT : null;
  const vars = generateDevVars();
  // startGateway's persistDir is where the registry's SQLite goes; a fresh directory, so every run starts empty.
  const persistDir =
    opts.storageDir === undefined
      ? undefined
      : mkdtempSync(join(realpathSync(opts.storageDir), "meshgate-heartbeat-path-"));
  let gateway: Gateway | undefined;
  const { post, close: closePoster } = poster(opts.client ?? "fetch", opts.concurrency);
  try {
    gateway = await startGateway({
      vars: rateLimit === null ? vars : { ...vars, HEARTBEAT_RATE_LIMIT: rateLimit },
      ...(persistDir === undefined ? {} : { persistDir }),
      sink: (line) => progress(`[gateway] ${line}`),
    });
    const gw = gateway;

    // Untimed: register every node (each registration makes the gateway challenge the node's endpoint), wait until
    // all are proven, then one steady-state round so the UPDATE path is compiled and SQLite's pages are warm.
    const warmupStarted = performance.now();
    progress(`heartbeat path: registering ${opts.nodes} nodes at c=${opts.concurrency} (untimed)`);
    await registerAll(gw, post, bench, responder, vars.ADMIN_TOKEN, opts.concurrency, progress);
    const steady = await sendAll(post, await signAll(gw, bench), opts.concurrency, true);
    const warmupSeconds = (performance.now() - warmupStarted) / 1000;
    const steadyRate = opts.nodes / steady.seconds;
    progress(`heartbeat path: all nodes verified; untimed steady round ${Math.round(steadyRate)}/s`);

    // A round longer than SIGN_AHEAD_SECONDS is sent in chunks, each signed just before it goes out.
    const chunk = Math.max(opts.concurrency * 8, Math.floor(steadyRate * SIGN_AHEAD_SECONDS));
    const meters = {
      workerd: spanMeter(gw.pid === undefined ? null : processMeter("workerd", gw.pid)),
      client: spanMeter(selfMeter("client")),
      machine: spanMeter(machineOrNull()),
    };
    const spans = Object.values(meters);
    const challengesBefore = responder.answered();
    const rounds: PathRound[] = [];
    const latenciesMs: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const before = {
        workerd: meters.workerd.total(),
        client: meters.client.total(),
        machine: meters.machine.total(),
      };
      let seconds = 0;
      for (let first = 0; first < bench.length; first += chunk) {
        const requests = await signAll(gw, bench.slice(first, first + chunk));
        for (const s of spans) s.start();
        const sent = await sendAll(post, requests, opts.concurrency, true);
        for (const s of spans) s.stop();
        seconds += sent.seconds;
        for (const l of sent.latenciesMs) latenciesMs.push(l);
      }
      const delta = (now: number | null, then: number | null): number | null =>
        now === null || then === null ? null : now - then;
      const measured: PathRound = {
        heartbeats: bench.length,
        seconds,
        workerdCpuSeconds: delta(meters.workerd.total(), before.workerd),
        clientCpuSeconds: delta(meters.client.total(), before.client) ?? 0,
        machineCpuSeconds: delta(meters.machine.total(), before.machine),
      };
      rounds.push(measured);
      progress(`heartbeat path: round ${round + 1}/${opts.rounds}: ${Math.round(pathRate(measured))}/s`);
    }
    return heartbeatPathResult(opts, {
      rounds,
      latenciesMs,
      rateLimit,
      challengesDuringRounds: responder.answered() - challengesBefore,
      warmupSeconds,
      storage: doStorage(persistDir),
    });
  } finally {
    closePoster();
    await gateway?.stop();
    await responder.close();
    if (persistDir !== undefined) rmSync(persistDir, { recursive: true, force: true });
  }
}
