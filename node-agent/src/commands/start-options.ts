// Parses and checks `node-agent start` options, so bad input fails before anything starts.
import { parseArgs } from "node:util";
import type { Price } from "@meshgate/schemas";
import { DEFAULT_KEY_FILE } from "../identity/key-file.js";
import { receiptLogPathFor } from "../receipts/receipt-log.js";
import { parseContextLengths } from "./context-length-option.js";
import { parsePrices } from "./price-option.js";
import { UsageError } from "./usage-error.js";

export const DEFAULT_LISTEN = "127.0.0.1:8790";
export const DEFAULT_CAPACITY = 64;
const MAX_CAPACITY = 100_000;

/** Listening mode: the gateway dials the node at its URL. */
export interface ListenOptions {
  host: string;
  port: number;
  /** How the gateway reaches the node; its listening address when absent. */
  publicUrl: string | undefined;
}

export interface StartOptions {
  gatewayUrl: string;
  upstreamUrl: string;
  /** Null in session mode (neither --listen nor --public-url): nothing listens, the agent dials the gateway. */
  listen: ListenOptions | null;
  keyFile: string;
  models: string[] | undefined;
  capacity: number;
  /** Per model, micro-units per million tokens; models not named here are free. */
  prices: Map<string, Price>;
  /** Per model, tokens of context; overrides what the upstream reports. */
  contextLengths: Map<string, number>;
  /** Where every signed receipt is appended (JSON lines). */
  receiptLog: string;
  /** The upstream serves POST /v1/responses itself: advertised, and such requests are passed to it. */
  responsesApi: boolean;
}

export function httpUrl(flag: string, text: string | undefined): string {
  if (text === undefined) throw new UsageError(`--${flag} is required`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${flag} must be a URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--${flag} must be an http(s) URL`);
  return url.href.replace(/\/+$/, "");
}

/** "HOST:PORT", "[IPv6]:PORT" or just "PORT" (on 127.0.0.1). */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535)
    throw new UsageError(`--listen must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: match[1] || match[2] || "127.0.0.1", port };
}

function capacity(text: string | undefined): number {
  if (text === undefined) return DEFAULT_CAPACITY;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_CAPACITY)
    throw new UsageError(`--capacity must be an integer from 1 to ${MAX_CAPACITY}`);
  return value;
}

/** Listening mode when either option is given (--public-url alone listens on the default address); else null. */
function listenOptions(listen: string | undefined, publicUrl: string | undefined): ListenOptions | null {
  if (listen === undefined && publicUrl === undefined) return null;
  const { host, port } = parseListen(listen ?? DEFAULT_LISTEN);
  return { host, port, publicUrl: publicUrl === undefined ? undefined : httpUrl("public-url", publicUrl) };
}

/** Returns "help" when --help was asked for. */
export function parseStartOptions(args: string[]): StartOptions | "help" {
  const { values } = parseArgs({
    args,
    options: {
      gateway: { type: "string" },
      upstream: { type: "string" },
      listen: { type: "string" },
      "public-url": { type: "string" },
      "key-file": { type: "string" },
      models: { type: "string" },
      capacity: { type: "string" },
      price: { type: "string", multiple: true },
      "context-length": { type: "string", multiple: true },
      "receipt-log": { type: "string" },
      "responses-api": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const models = values.models
    ?.split(",")
    .map((m) => m.trim())
    .filter((m) => m.length > 0);
  if (models?.length === 0) throw new UsageError("--models needs at least one model id");
  const prices = parsePrices(values.price ?? []);
  const contextLengths = parseContextLengths(values["context-length"] ?? []);
  // Discovered models are only known once the upstream answers (a price for a model it lacks is then a warning).
  for (const [flag, named] of [
    ["--price", prices],
    ["--context-length", contextLengths],
  ] as const) {
    const unserved = models && [...named.keys()].find((id) => !models.includes(id));
    if (unserved) throw new UsageError(`${flag} names ${JSON.stringify(unserved)}, which is not in --models`);
  }
  const keyFile = values["key-file"] ?? DEFAULT_KEY_FILE;
  return {
    gatewayUrl: httpUrl("gateway", values.gateway),
    // Operators often paste an OpenAI "base URL"; the agent appends /v1/... itself.
    upstreamUrl: httpUrl("upstream", values.upstream).replace(/\/v1$/, ""),
    listen: listenOptions(values.listen, values["public-url"]),
    keyFile,
    models,
    capacity: capacity(values.capacity),
    prices,
    contextLengths,
    receiptLog: values["receipt-log"] ?? receiptLogPathFor(keyFile),
    responsesApi: values["responses-api"] ?? false,
  };
}
