// Routing controls a client sends in OpenRouter's shape (`provider`, `models`): parsed, checked, and stripped from the
// body so a node never sees them. Pure: every malformed or contradictory control is refused, naming the exact field
// (the client gets a 400).
import { ModelIdSchema, NodeIdSchema } from "@meshgate/schemas";
import { invalid as invalidInput, ok, refuse, type Invalid, type Result } from "../lib/refusal.js";

export type SortBy = "latency" | "throughput" | "price";

/** Integer micro-units (USD 1e-6) per million tokens, the unit Meshgate stores prices in; null: no ceiling. */
export interface MaxPrice {
  prompt: number | null;
  completion: number | null;
}

export interface RoutingControls {
  /** Models to try, in order: the request's model first, then the fallbacks. Never empty. */
  models: string[];
  /** Nodes to try first, in this order. */
  order: string[];
  only: ReadonlySet<string> | null;
  ignore: ReadonlySet<string>;
  sort: SortBy | null;
  /** false: try only the nodes in `order` (or, without `order`, only the first choice); no other node. */
  allowFallbacks: boolean;
  /** null when no ceiling was given for either kind of token. */
  maxPrice: MaxPrice | null;
}

/**
 * Fallback models beyond the request's own. Each one can cost a full round of node attempts before the client hears
 * back, so the list stays short; 8 still covers any sensible chain (OpenRouter itself allows only a few).
 */
const MAX_FALLBACK_MODELS = 8;

/** Entries per node list: enough to name a whole region of the fleet, small enough that checking them stays cheap. */
const MAX_NODE_LIST = 64;

const SUPPORTED_PROVIDER_KEYS = ["order", "only", "ignore", "sort", "allow_fallbacks", "max_price"] as const;
/** OpenRouter's provider preferences that Meshgate does not implement: refused so a client never silently loses one. */
const OPENROUTER_ONLY_PROVIDER_KEYS = new Set([
  "require_parameters",
  "data_collection",
  "zdr",
  "enforce_distillable_text",
  "quantizations",
  "preferred_min_throughput",
  "preferred_max_latency",
]);
const SUPPORTED_PRICE_KEYS = ["prompt", "completion"] as const;
const OPENROUTER_ONLY_PRICE_KEYS = new Set(["request", "image", "audio"]);
const SORTS: readonly SortBy[] = ["latency", "throughput", "price"];

/** Micro-units per US dollar. */
const MICROS_PER_USD = 1e6;

type ProviderControls = Omit<RoutingControls, "models">;

function defaultProviderControls(): ProviderControls {
  return { order: [], only: null, ignore: new Set(), sort: null, allowFallbacks: true, maxPrice: null };
}

export const NO_CONTROLS = (model: string): RoutingControls => ({ models: [model], ...defaultProviderControls() });

export interface ParsedControls {
  controls: RoutingControls;
  body: Record<string, unknown>;
  stripped: boolean;
}

/**
 * Reads `provider` and `models` from a request body. `body.model` is taken as already validated (every request schema
 * checks it). Returns a new body without the two fields; `stripped` says whether either was present, i.e. whether the
 * original bytes may no longer be forwarded as they are. The first control found wrong is the refusal.
 */
export function parseRoutingControls(
  body: Readonly<Record<string, unknown>> & { model: string },
): Result<ParsedControls, Invalid> {
  try {
    return ok(parseControls(body));
  } catch (err) {
    if (err instanceof Refused) return refuse(err.refusal);
    throw err;
  }
}

function parseControls(body: Readonly<Record<string, unknown>> & { model: string }): ParsedControls {
  const { provider, models: fallbacks, ...rest } = body;
  const stripped = Object.hasOwn(body, "provider") || Object.hasOwn(body, "models");
  const models = parseModels(body.model, fallbacks);
  const controls = provider === null || provider === undefined ? defaultProviderControls() : parseProvider(provider);
  if (!controls.allowFallbacks && models.length > 1) {
    // Meshgate treats another model as one more fallback: with fallbacks forbidden the list could never be used.
    throw invalid(
      "models",
      "models lists fallback models, but provider.allow_fallbacks is false, which forbids any fallback. " +
        "Remove one of the two, or set allow_fallbacks to true.",
    );
  }
  return { controls: { models, ...controls }, body: rest, stripped };
}

function parseModels(primary: string, value: unknown): string[] {
  if (value === null || value === undefined) return [primary];
  if (!Array.isArray(value))
    throw invalid("models", "models must be an array of model ids (fallbacks for model), or null.");
  const items: readonly unknown[] = value;
  if (items.length > MAX_FALLBACK_MODELS) {
    throw invalid(
      "models",
      `models has ${items.length} entries; at most ${MAX_FALLBACK_MODELS} fallback models are allowed.`,
    );
  }
  const models = [primary];
  items.forEach((item, i) => {
    if (typeof item !== "string" || !ModelIdSchema.safeParse(item).success) {
      throw invalid(`models[${i}]`, `models[${i}] must be a model id: a string of 1 to 256 characters.`);
    }
    if (!models.includes(item)) models.push(item);
  });
  return models;
}

function parseProvider(value: unknown): ProviderControls {
  if (!isPlainObject(value)) throw invalid("provider", "provider must be an object of routing preferences, or null.");
  checkKeys(value, "provider", SUPPORTED_PROVIDER_KEYS, OPENROUTER_ONLY_PROVIDER_KEYS);
  const order = parseNodeList(value["order"], "provider.order") ?? [];
  const only = parseNodeList(value["only"], "provider.only");
  const ignore = parseNodeList(value["ignore"], "provider.ignore") ?? [];
  const controls: ProviderControls = {
    order,
    only: only ? new Set(only) : null,
    ignore: new Set(ignore),
    sort: parseSort(value["sort"]),
    allowFallbacks: parseAllowFallbacks(value["allow_fallbacks"]),
    maxPrice: parseMaxPrice(value["max_price"]),
  };
  checkNodeListsAgree(controls, ignore);
  return controls;
}

/** Refuses node lists that contradict each other: the client asked for something no routing can honour. */
function checkNodeListsAgree({ order, only, ignore }: ProviderControls, ignoreList: readonly string[]): void {
  if (only?.size === 0) {
    throw invalid(
      "provider.only",
      "provider.only is empty, so no node could serve the request. Omit it to allow every node.",
    );
  }
  ignoreList.forEach((id, i) => {
    if (only?.has(id)) {
      throw invalid(
        `provider.ignore[${i}]`,
        `Node ${id} is in both provider.only and provider.ignore; list it in one of them.`,
      );
    }
  });
  order.forEach((id, i) => {
    if (ignore.has(id)) {
      throw invalid(
        `provider.order[${i}]`,
        `Node ${id} is in both provider.order and provider.ignore; list it in one of them.`,
      );
    }
    if (only && !only.has(id)) {
      throw invalid(
        `provider.order[${i}]`,
        `Node ${id} is in provider.order but not in provider.only, so it could never be used.`,
      );
    }
  });
}

/** Refuses keys outside `supported`: OpenRouter's own as unsupported, anything else as a likely typo. */
function checkKeys(
  obj: Readonly<Record<string, unknown>>,
  at: string,
  supported: readonly string[],
  openRouterOnly: ReadonlySet<string>,
): void {
  for (const [key, v] of Object.entries(obj)) {
    if (supported.includes(key)) continue;
    const param = `${at}.${clip(key)}`;
    if (openRouterOnly.has(key)) {
      // null asks for nothing, so there is nothing to refuse; SDKs send null for preferences the app left unset.
      if (v === null) continue;
      throw unsupported(
        param,
        `${param} is an OpenRouter routing option that is not supported by Meshgate; remove it.`,
      );
    }
    throw invalid(param, `${param} is not a known routing control; ${at} accepts ${supported.join(", ")}.`);
  }
}

function parseNodeList(value: unknown, at: string): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) throw invalid(at, `${at} must be an array of node ids, or null.`);
  const items: readonly unknown[] = value;
  if (items.length > MAX_NODE_LIST)
    throw invalid(at, `${at} has ${items.length} entries; at most ${MAX_NODE_LIST} are allowed.`);
  const ids: string[] = [];
  items.forEach((item, i) => {
    const param = `${at}[${i}]`;
    if (typeof item !== "string" || !NodeIdSchema.safeParse(item).success) {
      // Clients coming from OpenRouter put provider names here; say what Meshgate wants instead.
      const got = typeof item === "string" ? `, not ${JSON.stringify(clip(item))}` : "";
      throw invalid(
        param,
        `${param} must be a node id (the 43-character base64url "id" that GET /v1/nodes lists)${got}.`,
      );
    }
    if (ids.includes(item)) throw invalid(param, `${param} repeats node ${item}; list each node once.`);
    ids.push(item);
  });
  return ids;
}

function parseSort(value: unknown): SortBy | null {
  if (value === null || value === undefined) return null;
  if (isPlainObject(value)) {
    throw unsupported(
      "provider.sort",
      'provider.sort as an object ({by, partition}) is not supported by Meshgate; send "latency", "throughput" or "price".',
    );
  }
  const sort = SORTS.find((s) => s === value);
  if (sort) return sort;
  throw invalid("provider.sort", 'provider.sort must be "latency", "throughput" or "price", or null.');
}

function parseAllowFallbacks(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === "boolean") return value;
  throw invalid("provider.allow_fallbacks", "provider.allow_fallbacks must be true or false, or null.");
}

function parseMaxPrice(value: unknown): MaxPrice | null {
  if (value === null || value === undefined) return null;
  if (!isPlainObject(value)) {
    throw invalid(
      "provider.max_price",
      'provider.max_price must be an object such as {"prompt": 1, "completion": 2} (USD per million tokens), or null.',
    );
  }
  checkKeys(value, "provider.max_price", SUPPORTED_PRICE_KEYS, OPENROUTER_ONLY_PRICE_KEYS);
  const prompt = parsePrice(value["prompt"], "provider.max_price.prompt");
  const completion = parsePrice(value["completion"], "provider.max_price.completion");
  return prompt === null && completion === null ? null : { prompt, completion };
}

/** USD per million tokens (OpenRouter's unit) to integer micro-units per million tokens. */
function parsePrice(value: unknown, at: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(at, `${at} must be a number of US dollars per million tokens, 0 or more (such as 0.5), or null.`);
  }
  // Past 2^53 the ceiling binds nothing anyway; capping keeps it an exact integer wherever it is stored.
  return Math.min(Math.round(value * MICROS_PER_USD), Number.MAX_SAFE_INTEGER);
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Client text echoed in a message or param is cut short: an error should not carry a megabyte of key name back. */
function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/**
 * A control found wrong, thrown from however deep the check is and caught only by parseRoutingControls, which returns
 * its refusal: it never leaves this module.
 */
class Refused extends Error {
  constructor(readonly refusal: Invalid) {
    super(refusal.message);
  }
}

function invalid(param: string, message: string): Refused {
  return new Refused(invalidInput(param, message, "invalid_routing_control"));
}

/** An OpenRouter control Meshgate does not implement: refused so a client never silently loses it. */
function unsupported(param: string, message: string): Refused {
  return new Refused(invalidInput(param, message, "unsupported_routing_control"));
}
