// The answers of the inference routes: the node's own body, passed on as its OpenAI-compatible server wrote it (the
// gateway reads only the usage), so these name what OpenAI's API has and leave every other field open.
import { UsageSchema } from "@meshgate/schemas";
import { z } from "zod";

const ChoiceSchema = z.looseObject({ index: z.int(), finish_reason: z.string().nullable().optional() });

export const ChatCompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    ChoiceSchema.extend({ message: z.looseObject({ role: z.string(), content: z.string().nullable().optional() }) }),
  ),
  usage: UsageSchema.optional(),
});

export const CompletionSchema = z.looseObject({
  id: z.string(),
  object: z.literal("text_completion"),
  created: z.int(),
  model: z.string(),
  choices: z.array(ChoiceSchema.extend({ text: z.string() })),
  usage: UsageSchema.optional(),
});

export const EmbeddingListSchema = z.looseObject({
  object: z.literal("list"),
  data: z.array(
    z.looseObject({
      object: z.literal("embedding"),
      index: z.int(),
      /** Floats, or base64 when the request asked for `encoding_format: "base64"`. */
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: UsageSchema.optional(),
});

/** POST /v1/responses: the Response the gateway writes from the node's chat answer (responses/response-object.ts). */
export const ResponseSchema = z.looseObject({
  id: z.string(),
  object: z.literal("response"),
  created_at: z.int(),
  status: z.enum(["completed", "incomplete", "failed", "in_progress"]),
  model: z.string(),
  output: z.array(z.looseObject({ type: z.string(), id: z.string() })),
  usage: z.looseObject({ input_tokens: z.int(), output_tokens: z.int(), total_tokens: z.int() }).nullable(),
  store: z.literal(false),
});
