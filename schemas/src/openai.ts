// Client request bodies: the fields the gateway relies on are checked; everything else passes through untouched.
import { z } from "zod";
import { ModelIdSchema } from "./heartbeat.js";

const StreamOptionsSchema = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();

const MessageSchema = z.looseObject({ role: z.string().min(1).max(64) });

/** Choices per request; a count that is not a whole number is refused, never read as 1. */
const ChoicesSchema = z.int().min(1).max(128).nullable().optional();

/**
 * Completion caps of the servers nodes run, besides OpenAI's: llama.cpp's `n_predict`, Ollama's `num_predict`,
 * TGI's `max_new_tokens`. A server may honour any of them, so a request's worst case is the largest one given; their
 * "no limit" values (-1, -2) are refused, since no worst case could be reserved for them.
 */
const BACKEND_CAPS = ["n_predict", "num_predict", "max_new_tokens"] as const;
/** Every field a server may read as the completion cap: OpenAI's two and the backends' own. */
export const CAP_FIELDS = ["max_completion_tokens", "max_tokens", ...BACKEND_CAPS] as const;
const backendCaps = Object.fromEntries(
  BACKEND_CAPS.map((name) => [name, z.int().min(1).nullable().optional()]),
) as Record<(typeof BACKEND_CAPS)[number], z.ZodOptional<z.ZodNullable<z.ZodInt>>>;

/** Content parts whose tokens are in their text, which the body's bytes bound. */
const TEXT_PART_TYPES: ReadonlySet<string> = new Set(["text", "refusal"]);
/**
 * Content parts a model reads as many more tokens than their bytes (an image or audio by reference, a file): the
 * prompt bound allows for each. Any other type is refused: OpenAI refuses it too, and a video's frames (or a server's
 * own part type) could make a prompt of any size that nothing in the request bounds.
 */
export const MEDIA_PART_TYPES: ReadonlySet<string> = new Set(["image_url", "input_audio", "audio_url", "file"]);

/**
 * Fields with which a server builds the prompt from something other than the messages, so the body's bytes would
 * not bound it: a template of the client's own (a loop can repeat a message any number of times), and options that
 * make each image many more tokens. Refused.
 */
const PROMPT_SHAPING_FIELDS = ["chat_template", "mm_processor_kwargs"] as const;

/** A logit bias that only bans or lowers tokens: an object of numbers none above zero. */
function onlyLowers(bias: unknown): boolean {
  return (
    typeof bias === "object" &&
    !Array.isArray(bias) &&
    Object.values(bias as object).every((v) => typeof v === "number" && v <= 0)
  );
}

/**
 * Fields that make a server generate tokens it does not send back, each with the test of a value that does not: a
 * positive logit bias (it can force a special token, which decodes to nothing), ignoring the end of sequence, a
 * minimum length, a list of allowed tokens, reasoning taken out of the answer. Servers read values loosely (vLLM's
 * pydantic takes "true", 1 and "100"; llama.cpp takes a bias as a list of pairs), so any value but a plainly neutral
 * one counts.
 */
const HIDDEN_OUTPUT_FIELDS: readonly (readonly [string, (value: unknown) => boolean])[] = [
  ["logit_bias", onlyLowers],
  ["ignore_eos", (v) => v === false],
  ["min_tokens", (v) => v === 0],
  ["allowed_token_ids", (v) => Array.isArray(v) && v.length === 0],
  ["include_reasoning", (v) => v === true],
];

/**
 * The field, if any, asking for output the client will not see: such a request must set a cap, which bounds its bill.
 */
export function hiddenOutputField(body: Readonly<Record<string, unknown>>): string | null {
  for (const [field, neutral] of HIDDEN_OUTPUT_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null && !neutral(value)) return field;
  }
  return null;
}

type Issues = z.core.$RefinementCtx;

/**
 * Shapes a node could bill for but never relay, so the gateway could not bound them: `best_of` above `n` (candidates
 * generated and thrown away) and beam search. Refused rather than billed blind or blamed on an honest node.
 */
function refuseHiddenGeneration(body: Record<string, unknown>, ctx: Issues): void {
  const n = typeof body["n"] === "number" ? body["n"] : 1;
  if (typeof body["best_of"] === "number" && body["best_of"] > n) {
    ctx.addIssue({
      code: "custom",
      path: ["best_of"],
      message:
        "best_of above n is not supported: the gateway bills only what it relays, and best_of discards completions",
    });
  }
  if (body["use_beam_search"] === true) {
    ctx.addIssue({
      code: "custom",
      path: ["use_beam_search"],
      message:
        "beam search is not supported: the gateway bills only what it relays, and beam search discards candidates",
    });
  }
}

/**
 * A request that asks for output it will not see must cap it; one that shapes its prompt outside the messages is
 * refused.
 */
function refuseUnboundedFields(body: Record<string, unknown>, ctx: Issues): void {
  const hidden = hiddenOutputField(body);
  if (hidden !== null && !CAP_FIELDS.some((field) => typeof body[field] === "number")) {
    ctx.addIssue({
      code: "custom",
      path: [hidden],
      message: `${hidden} makes the server generate tokens it does not return, which the gateway cannot count: set max_tokens to bound them`,
    });
  }
  for (const field of PROMPT_SHAPING_FIELDS) {
    if (body[field] !== undefined && body[field] !== null) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: `${field} is not supported: it makes a prompt whose size the gateway cannot bound`,
      });
    }
  }
}

/** The first content part of an unknown type is refused (one issue: a body of a million bad parts costs no more). */
function refuseUnknownParts(messages: readonly Record<string, unknown>[], ctx: Issues): void {
  for (const [i, message] of messages.entries()) {
    const content = message["content"];
    if (!Array.isArray(content)) continue;
    for (const [j, part] of (content as unknown[]).entries()) {
      const type = typeof part === "object" && part !== null ? (part as { type?: unknown }).type : undefined;
      if (typeof type === "string" && (TEXT_PART_TYPES.has(type) || MEDIA_PART_TYPES.has(type))) continue;
      const supported = [...TEXT_PART_TYPES, ...MEDIA_PART_TYPES].join(", ");
      const problem =
        typeof type === "string"
          ? `${type} content parts are not supported`
          : "a content part must be an object with a type";
      ctx.addIssue({
        code: "custom",
        path: ["messages", i, "content", j, "type"],
        message: `${problem} (supported: ${supported})`,
      });
      return;
    }
  }
}

/** Completions one request may ask for (`n` × prompts): each is bounded and settled apart. */
export const MAX_CHOICES_PER_REQUEST = 2_048;

/** Completions' `prompt`: a string or token list is one prompt; an array of strings or of token lists, one each. */
export function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return typeof prompt[0] === "number" ? 1 : prompt.length;
}

/** The fields the gateway reads a request's bill from (and refuses, or routes by). */
const READ_FIELDS: ReadonlySet<string> = new Set([
  "model",
  "messages",
  "prompt",
  "stream",
  "stream_options",
  "n",
  "best_of",
  "use_beam_search",
  "stop",
  "tools",
  "functions",
  "logprobs",
  ...CAP_FIELDS,
  ...HIDDEN_OUTPUT_FIELDS.map(([field]) => field),
  ...PROMPT_SHAPING_FIELDS,
]);

/**
 * A field the gateway reads, spelt in another case: Go's JSON decoding (Ollama) matches names regardless of case
 * (and folds ſ to s), so `MAX_TOKENS` could be the cap a server honours while the gateway reads `max_tokens`. Refused.
 */
function refuseCaseVariants(body: Record<string, unknown>, ctx: Issues): void {
  for (const key of Object.keys(body)) {
    const folded = key.toLowerCase().replace(/ſ/g, "s");
    if (folded !== key && READ_FIELDS.has(folded)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `field names are case-sensitive: ${key} is read as ${folded} by some servers; use ${folded}`,
      });
      return;
    }
  }
}

/** Every request shape a generating endpoint refuses because the gateway could not bound what it is billed for. */
function refuseUnboundedShapes(body: Record<string, unknown>, ctx: Issues): void {
  refuseHiddenGeneration(body, ctx);
  refuseUnboundedFields(body, ctx);
  refuseCaseVariants(body, ctx);
  const n = typeof body["n"] === "number" ? body["n"] : 1;
  if (n * promptCount(body["prompt"]) > MAX_CHOICES_PER_REQUEST) {
    ctx.addIssue({
      code: "custom",
      path: ["prompt"],
      message: `at most ${MAX_CHOICES_PER_REQUEST} completions per request (n × prompts)`,
    });
  }
}

/** As OpenAI answers: `stream_options` only means something for a stream. */
function refuseStreamOptionsWithoutStream(body: Record<string, unknown>, ctx: Issues): void {
  if (body["stream_options"] != null && body["stream"] !== true) {
    ctx.addIssue({
      code: "custom",
      path: ["stream_options"],
      message: "stream_options is only allowed when stream is true",
    });
  }
}

/** Stop sequences: OpenAI takes up to 4; servers more. */
const StopSchema = z
  .union([z.string(), z.array(z.string()).max(64)])
  .nullable()
  .optional();

/** Messages per chat request. */
export const MAX_CHAT_MESSAGES = 10_000;

export const ChatCompletionRequestSchema = z
  .looseObject({
    model: ModelIdSchema,
    messages: z.array(MessageSchema).min(1).max(MAX_CHAT_MESSAGES),
    stream: z.boolean().nullable().optional(),
    stream_options: StreamOptionsSchema,
    max_tokens: z.int().min(1).nullable().optional(),
    max_completion_tokens: z.int().min(1).nullable().optional(),
    n: ChoicesSchema,
    best_of: ChoicesSchema,
    stop: StopSchema,
    ...backendCaps,
  })
  .superRefine((body, ctx) => {
    refuseUnboundedShapes(body, ctx);
    refuseStreamOptionsWithoutStream(body, ctx);
    refuseUnknownParts(body.messages, ctx);
  });

const TokenArray = z.array(z.int().min(0));
const TextOrTokens = z.union([z.string(), z.array(z.string()), TokenArray, z.array(TokenArray)]);

export const CompletionRequestSchema = z
  .looseObject({
    model: ModelIdSchema,
    prompt: TextOrTokens,
    stream: z.boolean().nullable().optional(),
    stream_options: StreamOptionsSchema,
    max_tokens: z.int().min(0).nullable().optional(),
    n: ChoicesSchema,
    best_of: ChoicesSchema,
    stop: StopSchema,
    ...backendCaps,
  })
  .superRefine((body, ctx) => {
    refuseUnboundedShapes(body, ctx);
    refuseStreamOptionsWithoutStream(body, ctx);
  });

export const EmbeddingRequestSchema = z.looseObject({
  model: ModelIdSchema,
  input: TextOrTokens,
});

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

/** Usage as OpenAI-compatible servers report it. */
export const UsageSchema = z.looseObject({
  prompt_tokens: z.int().min(0),
  completion_tokens: z.int().min(0).optional(),
  total_tokens: z.int().min(0),
});
export type Usage = z.infer<typeof UsageSchema>;

/**
 * OpenAI's error body, strictly: what every refusal of the gateway and the agent looks like. Strict objects, so a
 * stray field (a stack trace, an internal code) fails the tests that check it.
 */
export const OpenAIErrorBodySchema = z.strictObject({
  error: z.strictObject({
    message: z.string(),
    /** invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, … */
    type: z.string(),
    /** The request field at fault (`messages[0].role`), when there is one. */
    param: z.string().nullable(),
    /** A machine-readable reason, such as `invalid_api_key` or `no_capacity`. */
    code: z.string().nullable(),
  }),
});
export type OpenAIErrorBody = z.infer<typeof OpenAIErrorBodySchema>;
