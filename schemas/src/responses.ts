// OpenAI's Responses API (`POST /v1/responses`), the stateless subset the gateway serves by translating to Chat
// Completions: the request is checked for shape and size here (unknown fields kept, as in openai.ts); what the gateway
// refuses, and why, is decided where the request is translated (worker/src/responses/chat-request.ts). The Response
// object, its output items and the stream events are plain types: the gateway writes them, it never parses them.
import { z } from "zod";
import { ModelIdSchema } from "./heartbeat.js";

/** Items per request: a long agent loop's history, with room; OpenAI documents no smaller bound. */
export const MAX_RESPONSES_INPUT_ITEMS = 10_000;
/** Content parts per message and tools per request, as bounded for chat requests' servers. */
const MAX_PARTS = 1_024;
const MAX_TOOLS = 512;
/** An item id: OpenAI's are short, the gateway's self-contained ones carry a whole item (see item-ids.ts). */
const ItemIdSchema = z.string().min(1).max(1_048_576);
const NameSchema = z.string().min(1).max(256);

const PartSchema = z.looseObject({ type: z.string().min(1).max(64) });
const ContentSchema = z.union([z.string(), z.array(PartSchema).max(MAX_PARTS)]);

/** Any input item: messages may omit `type` (EasyInputMessage), every other item names its type. */
const InputItemSchema = z.looseObject({
  type: z.string().min(1).max(64).optional(),
  role: z.string().min(1).max(64).optional(),
  content: ContentSchema.optional(),
  id: ItemIdSchema.nullable().optional(),
  call_id: z.string().min(1).max(1_024).optional(),
  name: NameSchema.optional(),
  arguments: z.string().optional(),
  output: ContentSchema.optional(),
});
export type ResponsesInputItem = z.infer<typeof InputItemSchema>;

const ToolSchema = z.looseObject({
  type: z.string().min(1).max(64),
  name: NameSchema.optional(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});
export type ResponsesTool = z.infer<typeof ToolSchema>;

const ToolChoiceSchema = z.union([z.string().min(1).max(64), z.looseObject({ type: z.string().min(1).max(64) })]);

const TextFormatSchema = z.looseObject({
  type: z.string().min(1).max(64),
  name: NameSchema.optional(),
  schema: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().nullable().optional(),
  description: z.string().optional(),
});
export type ResponsesTextFormat = z.infer<typeof TextFormatSchema>;

export const ResponsesRequestSchema = z.looseObject({
  model: ModelIdSchema,
  input: z.union([z.string(), z.array(InputItemSchema).max(MAX_RESPONSES_INPUT_ITEMS)]).optional(),
  instructions: z.string().nullable().optional(),
  tools: z.array(ToolSchema).max(MAX_TOOLS).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_output_tokens: z.int().min(1).nullable().optional(),
  text: z
    .looseObject({ format: TextFormatSchema.optional(), verbosity: z.string().max(64).nullable().optional() })
    .optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  user: z.string().max(1_024).optional(),
  top_logprobs: z.int().min(0).max(20).nullable().optional(),
  store: z.boolean().nullable().optional(),
  reasoning: z
    .looseObject({ effort: z.string().max(64).nullable().optional() })
    .nullable()
    .optional(),
  truncation: z.enum(["auto", "disabled"]).nullable().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

// ---- What the gateway answers: the Response object, its output items, the stream events (OpenAI's shapes). ----

export interface OutputTextLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export type OutputContentPart =
  | { type: "output_text"; text: string; annotations: never[]; logprobs: OutputTextLogprob[] }
  | { type: "refusal"; refusal: string };

export type ItemStatus = "in_progress" | "completed" | "incomplete";

export interface OutputMessage {
  type: "message";
  id: string;
  status: ItemStatus;
  role: "assistant";
  content: OutputContentPart[];
}

export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}

/**
 * The model's raw chain of thought, as OpenAI gives an open-weight model's (gpt-oss): `reasoning_text` content, no
 * summary. Nodes' servers send it as `reasoning_content` or `reasoning`.
 */
export interface ReasoningItem {
  type: "reasoning";
  id: string;
  status: ItemStatus;
  summary: never[];
  content: ReasoningTextPart[];
}

export interface ReasoningTextPart {
  type: "reasoning_text";
  text: string;
}

export type OutputItem = ReasoningItem | OutputMessage | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = "completed" | "incomplete" | "in_progress" | "failed";

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: null;
  reasoning: { effort: string | null; summary: null };
  store: false;
  temperature: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_logprobs: number | null;
  top_p: number | null;
  truncation: "auto" | "disabled";
  usage: ResponseUsage | null;
  user: string | null;
}

interface ItemRef {
  item_id: string;
  output_index: number;
}
interface PartRef extends ItemRef {
  content_index: number;
}

/** Every event the gateway emits, without `sequence_number` (the stream numbers them in order). */
export type ResponsesEventBody =
  | { type: "response.created" | "response.in_progress"; response: ResponseObject }
  | { type: "response.completed" | "response.incomplete" | "response.failed"; response: ResponseObject }
  | { type: "response.output_item.added" | "response.output_item.done"; output_index: number; item: OutputItem }
  | ({
      type: "response.content_part.added" | "response.content_part.done";
      part: OutputContentPart | ReasoningTextPart;
    } & PartRef)
  | ({ type: "response.reasoning_text.delta"; delta: string } & PartRef)
  | ({ type: "response.reasoning_text.done"; text: string } & PartRef)
  | ({ type: "response.output_text.delta"; delta: string; logprobs: OutputTextLogprob[] } & PartRef)
  | ({ type: "response.output_text.done"; text: string; logprobs: OutputTextLogprob[] } & PartRef)
  | ({ type: "response.refusal.delta"; delta: string } & PartRef)
  | ({ type: "response.refusal.done"; refusal: string } & PartRef)
  | ({ type: "response.function_call_arguments.delta"; delta: string } & ItemRef)
  | ({ type: "response.function_call_arguments.done"; name: string; arguments: string } & ItemRef)
  | {
      /** OpenAI's flat error event, with the same error nested too: openai-node raises only on a nested `error`. */
      type: "error";
      code: string;
      message: string;
      param: null;
      error: { type: string; code: string; message: string; param: null };
    };

export type ResponsesEvent = ResponsesEventBody & { sequence_number: number };
