// A client's inference request once validated: its body as the gateway reads it, the routing controls taken out,
// what it may be billed for, and the bytes each node is sent (the client's own, unless something had to change).
import {
  ChatCompletionRequestSchema,
  CompletionRequestSchema,
  EmbeddingRequestSchema,
  ResponsesRequestSchema,
  utf8,
  type ResponsesRequest,
} from "@meshgate/schemas";
import type { z } from "zod";
import { requestShape, type RequestShape } from "../billing/request-shape.js";
import { readJson, validJson } from "../http/json-body.js";
import { orThrow } from "../http/refusal.js";
import type { AttemptMode } from "../mesh/dispatch.js";
import { chatRequestFrom } from "../responses/chat-request.js";
import { inputWithItems } from "../responses/input-messages.js";
import { parseRoutingControls, type RouteNode, type RoutingControls } from "../routing/index.js";

/** The fields the gateway reads; every other field goes to the node as the client sent it. */
interface InferenceBody extends Record<string, unknown> {
  model: string;
  stream?: boolean | null | undefined;
  stream_options?: { include_usage?: boolean | undefined } | null | undefined;
}

export interface InferenceKind {
  path: string;
  schema: z.ZodType<InferenceBody>;
  /** Streams and generates completion tokens (embeddings do neither). */
  generates: boolean;
  /**
   * Completion tokens per choice a request without a cap is counted for against tokens-per-minute until its answer
   * is recorded: what the endpoint's servers default to (16 for completions, as OpenAI documents; a long answer for
   * chat).
   */
  likelyCap: number;
}

export const CHAT: InferenceKind = {
  path: "/v1/chat/completions",
  schema: ChatCompletionRequestSchema,
  generates: true,
  likelyCap: 4_096,
};
export const COMPLETIONS: InferenceKind = {
  path: "/v1/completions",
  schema: CompletionRequestSchema,
  generates: true,
  likelyCap: 16,
};
export const EMBEDDINGS: InferenceKind = {
  path: "/v1/embeddings",
  schema: EmbeddingRequestSchema,
  generates: false,
  likelyCap: 0,
};

export interface InferenceCall {
  kind: InferenceKind;
  /** The client's body, validated; the routing controls are still in it (see `controls`). */
  body: InferenceBody;
  /** The client's body as it arrived: its size bounds the prompt. */
  bytes: Uint8Array;
  controls: RoutingControls;
  shape: RequestShape;
  streamed: boolean;
  /** How nodes are asked: chat and completions always as a stream (see mesh/dispatch.ts), embeddings whole. */
  mode: AttemptMode;
  /** The gateway asks a streaming node for usage the client did not ask for, and takes it out again. */
  hideUsage: boolean;
  /** The body to send a node serving `model`. */
  bodyFor(model: string): Uint8Array;
  /**
   * A Responses API request (POST /v1/responses), sent to nodes as the Chat Completions request `body` is; its answer
   * is translated back (responses-answer.ts). Null for the other endpoints.
   */
  responses: ResponsesRequest | null;
  /**
   * For a Responses request, the body a node whose server serves the API itself is sent instead (see passesThrough):
   * the client's own, routing controls out, `model` set, always streamed (as chat is asked), nothing stored. Null for
   * the other endpoints.
   */
  responsesBodyFor: ((model: string) => Uint8Array) | null;
}

/** A Responses request to a node that serves `/v1/responses` for `model` itself: passed through, not translated. */
export function passesThrough(call: InferenceCall, node: RouteNode, model: string): boolean {
  return call.responsesBodyFor !== null && node.responsesApi.has(model);
}

export async function readCall(request: Request, kind: InferenceKind): Promise<InferenceCall> {
  const { value: body, bytes } = await readJson(request, kind.schema);
  return callFor(kind, body, bytes, null, null);
}

/**
 * A Responses API request, translated to Chat Completions (responses/chat-request.ts; a field it cannot serve is a
 * 400 naming it) and then checked as any chat request is, so every bound on chat requests holds for it too.
 */
export async function readResponsesCall(request: Request): Promise<InferenceCall> {
  const { value: responses } = await readJson(request, ResponsesRequestSchema);
  const chat = orThrow(chatRequestFrom(responses));
  // The routing controls were checked on the chat body (they are carried over unchanged); taken out here too.
  const native = orThrow(parseRoutingControls(responses)).body;
  const input = Array.isArray(responses.input) ? inputWithItems(responses.input) : responses.input;
  const responsesBodyFor = (model: string): Uint8Array =>
    utf8(JSON.stringify({ ...native, input, model, stream: true, store: false }));
  // Checked as the object it is, not parsed again from its bytes: the client's body passed the depth bound, and the
  // translation nests a tool's parameters one level deeper (under `function`), which must not make it a 400.
  return callFor(CHAT, validJson(chat, CHAT.schema), utf8(JSON.stringify(chat)), responses, responsesBodyFor);
}

function callFor(
  kind: InferenceKind,
  body: InferenceBody,
  bytes: Uint8Array,
  responses: ResponsesRequest | null,
  responsesBodyFor: InferenceCall["responsesBodyFor"],
): InferenceCall {
  const { controls, body: forwardable, stripped } = orThrow(parseRoutingControls(body));
  const streamed = kind.generates && body.stream === true;
  const mode: AttemptMode = streamed ? "stream" : kind.generates ? "assemble" : "whole";
  // Always ask a streaming node for usage, so every streamed token is metered; hidden again if not requested.
  const hideUsage = streamed && body.stream_options?.include_usage !== true;
  const asStream = mode === "assemble" ? { stream: true } : {};
  const bodyFor = (model: string): Uint8Array => {
    if (model === body.model && !stripped && !hideUsage && mode !== "assemble") return bytes;
    const usageAsked =
      hideUsage || mode === "assemble" ? { stream_options: { ...body.stream_options, include_usage: true } } : {};
    return utf8(JSON.stringify({ ...forwardable, model, ...asStream, ...usageAsked }));
  };
  const shape = requestShape(body, kind.generates);
  return { kind, body, bytes, controls, shape, streamed, mode, hideUsage, bodyFor, responses, responsesBodyFor };
}
