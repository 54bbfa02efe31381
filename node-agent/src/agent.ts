// Brings a node up in order — models, gateway key, HTTP server, then heartbeats (listening mode; with a session too
// when the gateway has them) or a session the node dials (session mode) — and takes it down again.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type GatewayMetadata, HEARTBEAT_INTERVAL_MS, type AdvertisedModel, type Price } from "@meshgate/schemas";
import { GatewayKeySet } from "./gateway/gateway-keys.js";
import { fetchGatewayMetadata, waitForGatewayMetadata } from "./gateway/gateway-metadata.js";
import { HeartbeatGate } from "./gateway/heartbeat-gate.js";
import { HeartbeatLoop } from "./gateway/heartbeat-loop.js";
import { priceCeilingMessage, pricesOverCeiling } from "./gateway/price-ceiling.js";
import type { NodeIdentity } from "./identity/node-identity.js";
import { errorMessage, type Logger } from "./log.js";
import { advertisedPrices, priceModels } from "./receipts/price-book.js";
import { ReceiptLog } from "./receipts/receipt-log.js";
import { ReceiptSigner } from "./receipts/receipt-signer.js";
import { retryUntilOk } from "./retry.js";
import { createAgentServer, type AgentServer } from "./server/agent-server.js";
import type { EndpointProver } from "./server/endpoint-proof.js";
import { NonceWindow } from "./server/nonce-window.js";
import { UpstreamProxy } from "./server/upstream-proxy.js";
import { NodeSession, type SessionTuning } from "./session/node-session.js";
import { applyContextLengths } from "./upstream/context-lengths.js";
import { discoverModels } from "./upstream/discover-models.js";

interface CommonAgentOptions {
  identity: NodeIdentity;
  /**
   * Rereads the identity (from the key file) when the gateway says the key in use was rotated out: a rotation done
   * by `node-agent rotate-key` while this agent runs is picked up without a restart.
   */
  reloadIdentity?: () => Promise<NodeIdentity>;
  gatewayUrl: string;
  /** Inference server root, e.g. http://127.0.0.1:11434 (a trailing /v1 is tolerated by the CLI). */
  upstreamUrl: string;
  /** Skips discovery from the upstream's /v1/models. */
  models?: AdvertisedModel[] | undefined;
  capacity: number;
  /** Micro-units per million tokens, per model; advertised to the gateway and charged in receipts. Others are free. */
  prices?: ReadonlyMap<string, Price> | undefined;
  /** Tokens of context per model, advertised to the gateway; overrides what the upstream's /v1/models reports. */
  contextLengths?: ReadonlyMap<string, number> | undefined;
  /** Where every signed receipt is appended (JSON lines); without one, receipts are signed but not kept. */
  receiptLog?: string | undefined;
  /** The upstream serves POST /v1/responses itself: every model says so, and the server accepts that path. */
  responsesApi?: boolean | undefined;
  log: Logger;
  signal?: AbortSignal | undefined;
  now?: () => number;
}

/**
 * The gateway dials the node: it listens on a port and heartbeats its URL; at a gateway with sessions it also holds
 * one, which keeps it live (heartbeats paused) once the URL is proven.
 */
export interface ListeningAgentOptions extends CommonAgentOptions {
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** Where the gateway reaches this node; defaults to http://<listen host>:<port>. */
  publicUrl?: string | undefined;
  /** Until the gateway's first ack says otherwise. */
  heartbeatIntervalMs?: number;
  /** How long a dropped session has to come back before heartbeats resume (HEARTBEAT_RESUME_DELAY_MS; for tests). */
  heartbeatResumeDelayMs?: number | undefined;
  /** Knobs for the session a gateway with sessions also gets (for tests); the protocol's defaults otherwise. */
  sessionTuning?: SessionTuning | undefined;
  session?: undefined;
}

/** The node dials the gateway (it may be behind NAT): nothing listens, requests come down a WebSocket session. */
export interface SessionAgentOptions extends CommonAgentOptions {
  session: SessionTuning;
  listenHost?: undefined;
  listenPort?: undefined;
  publicUrl?: undefined;
}

export type AgentOptions = ListeningAgentOptions | SessionAgentOptions;

export interface RunningAgent {
  nodeId: string;
  /** The identity signing right now. */
  identity(): NodeIdentity;
  /** The address actually bound; "" in session mode (nothing listens). */
  url: string;
  /** Where the gateway reaches this node; "" in session mode. */
  publicUrl: string;
  models: AdvertisedModel[];
  inFlight(): number;
  /**
   * Resolves with the reason once the agent stopped serving on its own and should exit: in session mode, when another
   * agent with this node's key connected to the gateway. Never resolves otherwise.
   */
  halted: Promise<string>;
  /** Stops heartbeats or the session, and the server; in-flight requests get `graceMs` to finish. */
  stop(graceMs?: number): Promise<void>;
}

async function resolveModels(options: AgentOptions): Promise<AdvertisedModel[]> {
  if (options.models) return options.models;
  const { log, upstreamUrl } = options;
  const found = await retryUntilOk(() => discoverModels(upstreamUrl), {
    signal: options.signal,
    onRetry: (err, attempt, delayMs) =>
      log("upstream not ready, retrying", {
        upstream: upstreamUrl,
        attempt,
        retry_in_ms: delayMs,
        error: errorMessage(err),
      }),
  });
  log("discovered models", {
    upstream: upstreamUrl,
    models: found.models.map((m) => m.id).join(",") || "(none)",
    skipped: found.skipped || undefined,
  });
  if (found.models.length === 0) log("warning: the upstream serves no models; the gateway will route nothing here");
  return found.models;
}

/** The models to advertise, with their context lengths and prices; warns about what the operator should know. */
async function advertisedModels(options: AgentOptions): Promise<AdvertisedModel[]> {
  const { log } = options;
  const sized = applyContextLengths(await resolveModels(options), options.contextLengths ?? new Map());
  if (sized.unserved.length > 0)
    log("warning: --context-length names models the upstream does not serve; they are not advertised", {
      models: sized.unserved.join(","),
    });
  if (sized.unknown.length > 0) {
    log(
      "warning: no known context length for some models; pass --context-length MODEL=TOKENS for each. Until then a " +
        "budgeted client that sets no max_tokens is reserved for an assumed context, and an answer longer than that " +
        "is not paid",
      { models: sized.unknown.join(",") },
    );
  }
  const priced = priceModels(sized.models, options.prices ?? new Map());
  if (priced.unserved.length > 0)
    log("warning: --price names models the upstream does not serve; they are not advertised", {
      models: priced.unserved.join(","),
    });
  // One upstream serves every model: the flag is the node's, carried on each model the gateway routes by.
  return options.responsesApi ? priced.models.map((m) => ({ ...m, responses_api: true as const })) : priced.models;
}

function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * The gateway's metadata and keys, once it answers: refused when a price is above the ceiling it publishes. The keys
 * refresh themselves until stopped.
 */
async function joinGateway(
  options: AgentOptions,
  models: AdvertisedModel[],
): Promise<{ metadata: GatewayMetadata; gatewayKeys: GatewayKeySet }> {
  const { log } = options;
  const metadata = await waitForGatewayMetadata(options.gatewayUrl, log, options.signal);
  const overCeiling = pricesOverCeiling(advertisedPrices(models), metadata.price_ceilings);
  if (overCeiling.length > 0) throw new Error(priceCeilingMessage(overCeiling));
  const gatewayKeys = new GatewayKeySet(
    { fetchMetadata: () => fetchGatewayMetadata(options.gatewayUrl), log },
    metadata,
  );
  log("gateway keys loaded", { gateway: options.gatewayUrl, keys: gatewayKeys.keyIds().join(",") });
  gatewayKeys.start();
  return { metadata, gatewayKeys };
}

/** The identity signing now; switched to the rotated key when the gateway says the one in use was rotated out. */
interface SigningIdentity {
  current(): NodeIdentity;
  onKeyRevoked(): Promise<void>;
}

function signingIdentity(options: AgentOptions): SigningIdentity {
  let identity = options.identity;
  return {
    current: () => identity,
    onKeyRevoked: async () => {
      if (!options.reloadIdentity) return;
      const reloaded = await options.reloadIdentity();
      if (reloaded.nodeId === identity.nodeId && reloaded.signer.keyId !== identity.signer.keyId) {
        identity = reloaded;
        options.log("switched to the rotated key", { node: identity.nodeId, keyid: identity.signer.keyId });
      }
    },
  };
}

/** What both modes share: the gateway's keys, the server that checks and answers its requests, the receipts. */
interface AgentCore {
  metadata: GatewayMetadata;
  gatewayKeys: GatewayKeySet;
  models: AdvertisedModel[];
  identity: SigningIdentity;
  agentServer: AgentServer;
  /** The URL endpoint challenges must name; set once known (in session mode there is none). */
  prover: EndpointProver;
  proxy: UpstreamProxy;
  receiptLog: ReceiptLog | undefined;
}

async function prepareCore(options: AgentOptions): Promise<AgentCore> {
  const { log } = options;
  const models = await advertisedModels(options);
  const { metadata, gatewayKeys } = await joinGateway(options, models);
  const identity = signingIdentity(options);
  const receiptLog = options.receiptLog === undefined ? undefined : await ReceiptLog.open(options.receiptLog, log);
  const receipts = new ReceiptSigner({ identity: identity.current, prices: advertisedPrices(models) });
  const proxy = new UpstreamProxy(
    options.upstreamUrl,
    {
      onUpstreamError: (err, answered) =>
        log(answered ? "upstream failed mid-response" : "upstream unreachable", { error: errorMessage(err) }),
      onReceiptError: (err) => log("could not sign a receipt", { error: errorMessage(err) }),
    },
    { receipts, onReceiptDelivered: (receipt) => receiptLog?.append(receipt) },
  );
  const auth = {
    verify: gatewayKeys.verifier,
    nonces: new NonceWindow(),
    now: options.now ?? Date.now,
    servesNode: (nodeId: string) => nodeId === identity.current().nodeId,
  };
  // Known before listening (the gateway challenges the URL it was told), but the port may be picked on listen.
  const prover = { identity: identity.current, publicUrl: "" };
  const agentServer = createAgentServer({
    auth,
    proxy,
    log,
    prover,
    capacity: options.capacity,
    responsesApi: options.responsesApi ?? false,
  });
  return { metadata, gatewayKeys, models, identity, agentServer, prover, proxy, receiptLog };
}

/** How the gateway's requests reach the server, and how that ends. */
interface Serving {
  url: string;
  publicUrl: string;
  halted: Promise<string>;
  /** Takes no new work: no more heartbeats or dialling, no new connections or relayed requests. */
  drain(): void;
  /** Ends what is left, once the answers in flight had their grace. */
  close(): Promise<void>;
}

async function serveByListening(options: ListeningAgentOptions, core: AgentCore): Promise<Serving> {
  const { log } = options;
  const { server, inFlight } = core.agentServer;
  await listen(server, options.listenPort, options.listenHost);
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${urlHost(address)}:${port}`;
  const publicUrl = options.publicUrl ?? `http://${urlHost(options.listenHost)}:${port}`;
  core.prover.publicUrl = publicUrl;
  const nodeId = core.identity.current().nodeId;
  log("listening", { url, public_url: publicUrl, node: nodeId, receipt_log: options.receiptLog });
  // A gateway with sessions also gets this node's liveness through one (so heartbeats pause once the URL is proven);
  // requests still come straight to the URL. Without one, heartbeats alone keep the node live, as before sessions.
  const sessionPath = core.metadata.session_path;
  let gate: HeartbeatGate | null = null;
  const heartbeats = new HeartbeatLoop({
    gatewayUrl: options.gatewayUrl,
    heartbeatPath: core.metadata.heartbeat_path,
    identity: core.identity.current,
    publicUrl,
    models: core.models,
    capacity: options.capacity,
    inFlight,
    intervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    log,
    onKeyRevoked: core.identity.onKeyRevoked,
    onStatus: (status) => gate?.heartbeatStatus(status),
  });
  let session: NodeSession | null = null;
  if (sessionPath !== undefined) {
    gate = new HeartbeatGate(
      heartbeats,
      (paused) => log(paused ? "live through the session; heartbeats paused" : "heartbeats resumed", { node: nodeId }),
      options.heartbeatResumeDelayMs,
    );
    const liveGate = gate;
    session = new NodeSession({
      gatewayUrl: options.gatewayUrl,
      sessionPath,
      identity: core.identity.current,
      onKeyRevoked: core.identity.onKeyRevoked,
      server,
      state: { type: "state", models: core.models, capacity: options.capacity, url: publicUrl },
      log,
      tuning: options.sessionTuning,
      now: options.now,
      onLive: (live) => liveGate.session(live),
    });
  }
  heartbeats.start();
  session?.start();
  let closed: Promise<void> = Promise.resolve();
  return {
    url,
    publicUrl,
    halted: session?.halted ?? new Promise<string>(() => {}),
    drain: () => {
      gate?.stop();
      heartbeats.stop();
      session?.drain();
      closed = new Promise<void>((resolve) => server.close(() => resolve()));
    },
    close: async () => {
      await session?.close();
      // Keep-alive and never-used connections would otherwise hold the server open.
      server.closeAllConnections();
      await closed;
    },
  };
}

function serveThroughSession(options: SessionAgentOptions, core: AgentCore): Serving {
  const { log, gatewayUrl } = options;
  const { server } = core.agentServer;
  const sessionPath = core.metadata.session_path;
  if (sessionPath === undefined)
    log("warning: the gateway's metadata names no session path (is it older than node sessions?); trying the default");
  const session = new NodeSession({
    gatewayUrl,
    sessionPath,
    identity: core.identity.current,
    onKeyRevoked: core.identity.onKeyRevoked,
    server,
    state: { type: "state", models: core.models, capacity: options.capacity },
    log,
    tuning: options.session,
    now: options.now,
  });
  log("connecting to the gateway; no port is opened (session mode)", {
    node: core.identity.current().nodeId,
    gateway: gatewayUrl,
    receipt_log: options.receiptLog,
  });
  session.start();
  return {
    url: "",
    publicUrl: "",
    halted: session.halted,
    drain: () => session.drain(),
    close: async () => {
      await session.close();
      // What the closed socket left: its exchanges are dropped with it, so normally nothing.
      server.closeAllConnections();
      server.close();
    },
  };
}

async function stopAgent(core: AgentCore, serving: Serving, graceMs: number): Promise<void> {
  serving.drain();
  core.gatewayKeys.stop();
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([core.agentServer.idle(), new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
  clearTimeout(grace);
  await serving.close();
  core.proxy.close();
  // After the server: the last answers' receipts are in the log before it is closed.
  await core.receiptLog?.close();
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const core = await prepareCore(options);
  let serving: Serving;
  try {
    serving = options.session ? serveThroughSession(options, core) : await serveByListening(options, core);
  } catch (err) {
    core.gatewayKeys.stop();
    core.proxy.close();
    await core.receiptLog?.close();
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    nodeId: core.identity.current().nodeId,
    identity: core.identity.current,
    url: serving.url,
    publicUrl: serving.publicUrl,
    models: core.models,
    inFlight: core.agentServer.inFlight,
    halted: serving.halted,
    // Once: the CLI stops the agent when it halts, and again on a signal that arrives meanwhile.
    stop: (graceMs = 5_000) => (stopped ??= stopAgent(core, serving, graceMs)),
  };
}
