// Client request bodies: the fields the gateway relies on are checked; everything else passes through untouched.
import { z } from "zod";
import { ModelIdSchema } from "./heartbeat.js";

const StreamOptionsSchema = z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional();

const MessageSchema = z.looseObject({ role: z.string().min(1).max(64) });

export const ChatCompletionRequestSchema = z.looseObject({
  model: ModelIdSchema,
  messages: z.array(MessageSchema).min(1).max(10_000),
  stream: z.boolean().nullable().optional(),
  stream_options: StreamOptionsSchema,
  max_tokens: z.int().min(1).nullable().optional(),
  max_completion_tokens: z.int().min(1).nullable().optional(),
  n: z.int().min(1).max(128).nullable().optional(),
});

const TokenArray = z.array(z.int().min(0));
const TextOrTokens = z.union([z.string(), z.array(z.string()), TokenArray, z.array(TokenArray)]);

export const CompletionRequestSchema = z.looseObject({
  model: ModelIdSchema,
  prompt: TextOrTokens,
  stream: z.boolean().nullable().optional(),
  stream_options: StreamOptionsSchema,
  max_tokens: z.int().min(0).nullable().optional(),
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

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
