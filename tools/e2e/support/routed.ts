// One chat request through the official SDK, reduced to what routing tests look at: which node answered, how many
// nodes were tried, what Server-Timing said, and that a real answer came back. Routing controls (`provider`,
// `models`) ride along as extra body fields, the way an OpenRouter client sends them.
import { parseServerTiming } from "../../gateway/server-timing.js";
import type OpenAI from "openai";
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from "openai/resources/chat/completions";
import { CHAT_MODEL } from "./cluster.js";

/** OpenRouter-style body fields the SDK's types do not know; the SDK sends them as they are. */
export interface RoutingFields {
  provider?: Record<string, unknown>;
  models?: string[];
  [field: string]: unknown;
}

export interface RoutedAnswer {
  node: string;
  attempts: number;
  /** Server-Timing entries by name, in ms. */
  timing: Map<string, number>;
  text: string;
  /** How long the client waited for the whole answer, ms. */
  elapsedMs: number;
}

export interface ChatOptions {
  stream?: boolean;
  maxTokens?: number;
  extra?: RoutingFields;
  prompt?: string;
}

export async function routedChat(client: OpenAI, opts: ChatOptions = {}): Promise<RoutedAnswer> {
  const started = Date.now();
  const base = {
    model: CHAT_MODEL,
    messages: [{ role: "user" as const, content: opts.prompt ?? "route me somewhere quick" }],
    max_tokens: opts.maxTokens ?? 4,
    ...opts.extra,
  };
  let text = "";
  let headers: Headers;
  if (opts.stream) {
    const params: ChatCompletionCreateParamsStreaming & RoutingFields = { ...base, stream: true };
    const { data, response } = await client.chat.completions.create(params).withResponse();
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? "";
    headers = response.headers;
  } else {
    const params: ChatCompletionCreateParamsNonStreaming & RoutingFields = { ...base, stream: false };
    const { data, response } = await client.chat.completions.create(params).withResponse();
    text = data.choices[0]?.message.content ?? "";
    headers = response.headers;
  }
  return {
    node: headers.get("x-meshgate-node") ?? "",
    attempts: Number(headers.get("x-meshgate-attempts")),
    timing: parseServerTiming(headers.get("server-timing")),
    text,
    elapsedMs: Date.now() - started,
  };
}

/** How many answers each node gave. */
export function tally(answers: readonly RoutedAnswer[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a.node, (counts.get(a.node) ?? 0) + 1);
  return counts;
}

/** `count` requests one after another, alternating streamed and not. */
export async function sequential(
  client: OpenAI,
  count: number,
  opts: Omit<ChatOptions, "stream"> = {},
): Promise<RoutedAnswer[]> {
  const answers: RoutedAnswer[] = [];
  for (let i = 0; i < count; i++) answers.push(await routedChat(client, { ...opts, stream: i % 2 === 1 }));
  return answers;
}
