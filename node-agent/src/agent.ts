// Brings a node up in order — models, gateway key, HTTP server, heartbeats — and takes it down again.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type GatewayMetadata, HEARTBEAT_INTERVAL_MS, type AdvertisedModel, type Price } from "@meshgate/schemas";
import { GatewayKeySet } from "./gateway/gateway-keys.js";
import { fetchGatewayMetadata, waitForGatewayMetadata } from "./gateway/gateway-metadata.js";
import { HeartbeatLoop } from "./gateway/heartbeat-loop.js";
import { priceCeilingMessage, pricesOverCeiling } from "./gateway/price-ceiling.js";
import type { NodeIdentity } from "./identity/node-identity.js";
import { errorMessage, type Logger } from "./log.js";
import { advertisedPrices, priceModels } from "./receipts/price-book.js";
import { ReceiptLog } from "./receipts/receipt-log.js";
import { ReceiptSigner } from "./receipts/receipt-signer.js";
import { retryUntilOk } from "./retry.js";
import { createAgentServer } from "./server/agent-server.js";
import { NonceWindow } from "./server/nonce-window.js";
import { UpstreamProxy } from "./server/upstream-proxy.js";
import { applyContextLengths } from "./upstream/context-lengths.js";
import { discoverModels } from "./upstream/discover-models.js";

export interface AgentOptions {
  identity: NodeIdentity;
  /**
   * Rereads the identity (from the key file) when the gateway says the key in use was rotated out: a rotation done
   * by `node-agent rotate-key` while this agent runs is picked up without a restart.
   */
  reloadIdentity?: () => Promise<NodeIdentity>;
  gatewayUrl: string;
  /** Inference server root, e.g. http://127.0.0.1:11434 (a trailing /v1 is tolerated by the CLI). */
  upstreamUrl: string;
  listenHost: string;
  /** 0 picks a free port. */
  listenPort: number;
  /** Where the gateway reaches this node; defaults to http://<listen host>:<port>. */
  publicUrl?: string | undefined;
  /** Skips discovery from the upstream's /v1/models. */
  models?: AdvertisedModel[] | undefined;
  capacity: number;
  /** Micro-units per million tokens, per model; advertised in heartbeats and charged in receipts. Others are free. */
  prices?: ReadonlyMap<string, Price> | undefined;
  /** Tokens of context per model, advertised in heartbeats; overrides what the upstream's /v1/models reports. */
  contextLengths?: ReadonlyMap<string, number> | undefined;
  /** Where every signed receipt is appended (JSON lines); without one, receipts are signed but not kept. */
  receiptLog?: string | undefined;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Until the gateway's first ack says otherwise. */
  heartbeatIntervalMs?: number;
  now?: () => number;
}

export interface RunningAgent {
  nodeId: string;
  /** The identity signing right now. */
  identity(): NodeIdentity;
  /** The address actually bound. */
  url: string;
  publicUrl: string;
  models: AdvertisedModel[];
  inFlight(): number;
  /** Stops heartbeats and the server; in-flight requests get `graceMs` to finish. */
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
  return priced.models;
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

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { log } = options;
  let identity = options.identity;
  const models = await advertisedModels(options);
  const { metadata, gatewayKeys } = await joinGateway(options, models);

  const receiptLog = options.receiptLog === undefined ? undefined : await ReceiptLog.open(options.receiptLog, log);
  const receipts = new ReceiptSigner({ identity: () => identity, prices: advertisedPrices(models) });
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
    servesNode: (nodeId: string) => nodeId === identity.nodeId,
  };
  // Known before listening (the gateway challenges the URL it was told), but the port may be picked on listen.
  const prover = { identity: () => identity, publicUrl: "" };
  const { server, inFlight, idle } = createAgentServer({ auth, proxy, log, prover, capacity: options.capacity });
  try {
    await listen(server, options.listenPort, options.listenHost);
  } catch (err) {
    gatewayKeys.stop();
    await receiptLog?.close();
    throw err;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${urlHost(address)}:${port}`;
  const publicUrl = options.publicUrl ?? `http://${urlHost(options.listenHost)}:${port}`;
  prover.publicUrl = publicUrl;
  log("listening", { url, public_url: publicUrl, node: identity.nodeId, receipt_log: options.receiptLog });

  const heartbeats = new HeartbeatLoop({
    gatewayUrl: options.gatewayUrl,
    heartbeatPath: metadata.heartbeat_path,
    identity: () => identity,
    publicUrl,
    models,
    capacity: options.capacity,
    inFlight,
    intervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    log,
    onKeyRevoked: async () => {
      if (!options.reloadIdentity) return;
      const reloaded = await options.reloadIdentity();
      if (reloaded.nodeId === identity.nodeId && reloaded.signer.keyId !== identity.signer.keyId) {
        identity = reloaded;
        log("switched to the rotated key", { node: identity.nodeId, keyid: identity.signer.keyId });
      }
    },
  });
  heartbeats.start();

  async function stop(graceMs = 5_000): Promise<void> {
    heartbeats.stop();
    gatewayKeys.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([idle(), new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
    clearTimeout(grace);
    // Keep-alive and never-used connections would otherwise hold the server open.
    server.closeAllConnections();
    await closed;
    proxy.close();
    // After the server: the last answers' receipts are in the log before it is closed.
    await receiptLog?.close();
  }
  return { nodeId: identity.nodeId, identity: () => identity, url, publicUrl, models, inFlight, stop };
}
