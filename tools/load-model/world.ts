// The simulated deployment: a clock, the counted Durable Object namespaces (a fake `env`), the colos' caches, the
// isolates with their own module state, and the API keys. A driver (today.ts) sends requests through it.
import { createHash, createHmac } from "node:crypto";
import type { KeyLimits } from "../../worker/src/billing/records.js";
import type { KeyLookup } from "../../worker/src/durable/api-keys/api-keys.js";
import { hashApiKey } from "../../worker/src/keys/api-key.js";
import {
  importKeySecret,
  KEY_ID_BYTES,
  KEY_SECRET_BYTES,
  keyIdOf,
  mintToken,
} from "../../worker/src/keys/key-token.js";
import { ColoCaches } from "./colo-cache.js";
import type { LoadConfig } from "./config.js";
import { FakeNamespace, type ObjectBehaviour } from "./fake-namespace.js";
import { type Isolate, installColoCaches, loadIsolate, newWorldNumber } from "./isolate.js";
import { RpcCounter } from "./rpc-counter.js";
import { SimClock } from "./sim-clock.js";

/** Simulated time starts here (any fixed instant: runs are repeatable). */
export const EPOCH_MS = Date.UTC(2026, 0, 5);
export const ADMIN_TOKEN = "load-model-admin";

/** The API_KEY_SECRET of the simulated gateway (base64url of 32 bytes): its keys are minted with it. */
const API_KEY_SECRET = Buffer.alloc(32, 7).toString("base64url");

/** One key: its token, the hash the index stores, and what the index answers for it. */
export interface LoadKey {
  token: string;
  hash: string;
  identity: KeyLookup;
}

/** The objects behind each binding (by binding name: KEYS, ACCOUNTS, ...), named by their class in the report. */
export type ObjectFactories = Record<string, { kind: string; create(name: string, env: Env): ObjectBehaviour }>;

export interface World {
  config: LoadConfig;
  clock: SimClock;
  counter: RpcCounter;
  env: Env;
  namespaces: Map<string, FakeNamespace>;
  colos: ColoCaches[];
  isolates: Isolate[];
  keys: LoadKey[];
  /** Puts the real clock and digest back. */
  close(): void;
}

/**
 * Every key has a budget; the hot key (0) also rpm and tpm limits, generous enough never to refuse: what matters is
 * that its requests take the limited path.
 */
function limitsOf(index: number, config: LoadConfig): KeyLimits {
  const budget = 1e15;
  if (index !== 0) return { budget, rpm: null, tpm: null };
  const perMinute = config.rps * 60 * 10;
  return { budget, rpm: perMinute, tpm: perMinute * 1_000 };
}

/** Keys in the gateway's own format (mg2-, tagged under API_KEY_SECRET), so the real authenticate accepts them. */
async function makeKeys(config: LoadConfig): Promise<LoadKey[]> {
  const secret = await importKeySecret(API_KEY_SECRET);
  if (!secret) throw new Error("load model: API_KEY_SECRET did not import");
  const keys: LoadKey[] = [];
  for (let i = 0; i < config.keys; i++) {
    const idBytes = new Uint8Array(KEY_ID_BYTES);
    new DataView(idBytes.buffer).setUint32(0, i);
    const token = await mintToken(secret, idBytes, new Uint8Array(KEY_SECRET_BYTES).fill(i % 251));
    const id = keyIdOf(idBytes);
    const identity = { id, name: i === 0 ? "hot" : `key ${i}`, limits: limitsOf(i, config) };
    keys.push({ token, hash: await hashApiKey(token), identity });
  }
  return keys;
}

const bytesOf = (data: BufferSource): Uint8Array =>
  ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

const bufferOf = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/**
 * SHA-256 and HMAC-SHA256 answered at once rather than from Node's thread pool: the request path hashes a token on
 * every key-cache miss and checks every token's HMAC tag, and a result arriving at a later simulated instant would
 * shift that request's calls in time (and make counts depend on the machine's load).
 */
function installInstantCrypto(): () => void {
  const subtle = crypto.subtle;
  const real = { digest: subtle.digest, importKey: subtle.importKey, sign: subtle.sign };
  /** The raw bytes of the HMAC keys imported during the run (the real key is not extractable). */
  const hmacKeys = new WeakMap<CryptoKey, Uint8Array>();
  subtle.digest = async (...[algorithm, data]: Parameters<SubtleCrypto["digest"]>): Promise<ArrayBuffer> => {
    const name = typeof algorithm === "string" ? algorithm : algorithm.name;
    if (name.toUpperCase() !== "SHA-256") return real.digest.call(subtle, algorithm, data);
    return bufferOf(createHash("sha256").update(bytesOf(data)).digest());
  };
  subtle.importKey = (async (...args: Parameters<SubtleCrypto["importKey"]>) => {
    const key = await (real.importKey as (...a: typeof args) => Promise<CryptoKey>).apply(subtle, args);
    const [format, data, algorithm] = args;
    const name = typeof algorithm === "string" ? algorithm : algorithm.name;
    if (format === "raw" && name === "HMAC") hmacKeys.set(key, Uint8Array.from(bytesOf(data as BufferSource)));
    return key;
  }) as SubtleCrypto["importKey"];
  subtle.sign = async (...[algorithm, key, data]: Parameters<SubtleCrypto["sign"]>): Promise<ArrayBuffer> => {
    const raw = hmacKeys.get(key);
    if (!raw) return real.sign.call(subtle, algorithm, key, data);
    return bufferOf(createHmac("sha256", raw).update(bytesOf(data)).digest());
  };
  return () => {
    Object.assign(subtle, real);
  };
}

export async function buildWorld(
  config: LoadConfig,
  factories: (keys: readonly LoadKey[]) => ObjectFactories,
): Promise<World> {
  const clock = new SimClock(EPOCH_MS);
  const counter = new RpcCounter();
  const keys = await makeKeys(config);
  const namespaces = new Map<string, FakeNamespace>();
  const env = {
    ADMISSION_CELLS: String(config.cells),
    ADMIN_TOKEN,
    API_KEY_SECRET,
    GATEWAY_FEE_BPS: "0",
  } as Record<string, unknown>;
  for (const [binding, { kind, create }] of Object.entries(factories(keys))) {
    const ns = new FakeNamespace({
      kind,
      counter,
      clock,
      rttMs: config.rttMs,
      create: (name) => create(name, env as unknown as Env),
    });
    namespaces.set(binding, ns);
    env[binding] = ns;
  }
  const colos = Array.from({ length: config.colos }, () => new ColoCaches(() => clock.now()));
  // Many at once: each copy is a round trip to the module loader's thread, which is idle time when taken one by one.
  const world = newWorldNumber();
  const isolates = await Promise.all(
    Array.from({ length: config.isolates }, (_, i) => loadIsolate(world, i, i % config.colos)),
  );
  const restoreCrypto = installInstantCrypto();
  const restoreClock = clock.install();
  // The global `caches` is the running colo's (inColo); Node has none of its own.
  const restoreCaches = installColoCaches();
  return {
    config,
    clock,
    counter,
    env: env as unknown as Env,
    namespaces,
    colos,
    isolates,
    keys,
    close() {
      restoreClock();
      restoreCrypto();
      restoreCaches();
    },
  };
}
