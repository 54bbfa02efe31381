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
const backendCaps = Object.fromEntries(BACKEND_CAPS.map((name) => [name, z.int().min(1).nullable().optional()])) as Record<
  (typeof BACKEND_CAPS)[number],
  z.ZodOptional<z.ZodNullable<z.ZodInt>>
>;

/** Content part types whose prompt tokens nothing in the request bounds (a video's frames): refused. */
const UNBOUNDED_PARTS = new Set(["video_url", "video"]);

type Issues = z.core.$RefinementCtx;

/**
 * Shapes a node could bill for but never relay, so the gateway could not bound them: `best_of` above `n` (candidates
 * generated and thrown away) and beam search. Refused rather than billed blind or blamed on an honest node.
 */
function refuseHiddenGeneration(body: Record<string, unknown>, ctx: Issues): void {
  const n = typeof body["n"] === "number" ? body["n"] : 1;
  if (typeof body["best_of"] === "number" && body["best_of"] > n) {
    ctx.addIssue({ code: "custom", path: ["best_of"], message: "best_of above n is not supported: the gateway bills only what it relays, and best_of discards completions" });
  }
  if (body["use_beam_search"] === true) {
    ctx.addIssue({ code: "custom", path: ["use_beam_search"], message: "beam search is not supported: the gateway bills only what it relays, and beam search discards candidates" });
  }
}

function refuseUnboundedParts(messages: readonly Record<string, unknown>[], ctx: Issues): void {
  messages.forEach((message, i) => {
    const content = message["content"];
    if (!Array.isArray(content)) return;
    (content as unknown[]).forEach((part, j) => {
      const type = typeof part === "object" && part !== null ? (part as { type?: unknown }).type : undefined;
      if (typeof type === "string" && UNBOUNDED_PARTS.has(type)) {
        ctx.addIssue({ code: "custom", path: ["messages", i, "content", j, "type"], message: `${type} content parts are not supported: their prompt tokens cannot be bounded` });
      }
    });
  });
}

export const ChatCompletionRequestSchema = z
  .looseObject({
    model: ModelIdSchema,
    messages: z.array(MessageSchema).min(1).max(10_000),
    stream: z.boolean().nullable().optional(),
    stream_options: StreamOptionsSchema,
    max_tokens: z.int().min(1).nullable().optional(),
    max_completion_tokens: z.int().min(1).nullable().optional(),
    n: ChoicesSchema,
    best_of: ChoicesSchema,
    ...backendCaps,
  })
  .superRefine((body, ctx) => {
    refuseHiddenGeneration(body, ctx);
    refuseUnboundedParts(body.messages, ctx);
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
    ...backendCaps,
  })
  .superRefine(refuseHiddenGeneration);

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

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
