// A node's Chat Completions stream (`chat.completion.chunk`s, parsed) as OpenAI's Responses event stream. Fed one
// chunk at a time; each call returns the events to send, numbered in order. The node's reasoning, if it sends any, is
// a reasoning item, ended when the answer begins. The answer's text is a message item (text
// after tool calls, which servers rarely send, a second one); each tool call (parallel calls included, by their chat
// index) its own function_call item, in the order they start. Items end when the node gives its finish_reason; the
// response ends at end() (the stream's end, after the usage chunk the gateway always asks for) or fail() (an error
// from the node, or a stream cut short).
import type {
  FunctionCallItem,
  OutputItem,
  OutputTextLogprob,
  OutputMessage,
  ReasoningItem,
  ResponseObject,
  ResponsesEvent,
  ResponsesEventBody,
  ResponsesRequest,
  ResponseUsage,
} from "@meshgate/schemas";
import { logprobsFromChat } from "./logprobs.js";
import { finishFromChat, reasoningFromChat, responseShell, usageFromChat, type ResponseIds } from "./response-shell.js";
import { answerChoice, record, type Json } from "./json.js";

/** An error as the node (or the gateway) reports it mid-stream: OpenAI's `{error: {message, type, code}}`. */
export interface StreamError {
  message: string;
  type?: string | null | undefined;
  code?: string | number | null | undefined;
}

/**
 * Output one stream holds at most (characters of text, reasoning and arguments; a log-probability entry counts its
 * tokens and 32 more; a new item or part 64): the answer is kept to be sent whole again at its end, so a node that
 * streams without end must not grow it without bound. 4 MiB is about a million tokens of text.
 */
export const MAX_STREAMED_OUTPUT = 4 * 1024 * 1024;

/** What log-probability entries count against MAX_STREAMED_OUTPUT. */
function logprobsSize(tokens: readonly OutputTextLogprob[]): number {
  let size = 0;
  for (const t of tokens) {
    size += 32 + t.token.length;
    for (const alt of t.top_logprobs) size += 32 + alt.token.length;
  }
  return size;
}

interface OpenCall {
  item: FunctionCallItem;
  outputIndex: number;
}

export class ResponsesEventStream {
  private sequence = 0;
  private started = false;
  private ended = false;
  private model: string;
  private readonly output: OutputItem[] = [];
  /** The reasoning item the node's reasoning goes into, until its answer begins. */
  private reasoning: ReasoningItem | null = null;
  /** The message item text is going into; null before any text, and once tool calls began. */
  private message: OutputMessage | null = null;
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: string | null = null;
  private usage: ResponseUsage | null = null;
  /** Output held so far, against MAX_STREAMED_OUTPUT. */
  private held = 0;
  private overran = false;

  constructor(
    private readonly req: ResponsesRequest,
    private readonly ids: ResponseIds,
  ) {
    this.model = req.model;
  }

  /** True once the node's output passed MAX_STREAMED_OUTPUT (and the response failed): the node should be stopped. */
  get overflowed(): boolean {
    return this.overran;
  }

  /** True once the response has ended (completed, incomplete or failed): later chunks are ignored. */
  get done(): boolean {
    return this.ended;
  }

  /** `response.created` and `response.in_progress`, once: sent before the node's first chunk arrives. */
  start(): ResponsesEvent[] {
    if (this.started) return [];
    this.started = true;
    const response = this.snapshot();
    return [this.event({ type: "response.created", response }), this.event({ type: "response.in_progress", response })];
  }

  /** The events one parsed `chat.completion.chunk` makes. */
  push(chunk: unknown): ResponsesEvent[] {
    if (this.ended) return [];
    const events = this.start();
    const c = record(chunk);
    if (typeof c["model"] === "string" && c["model"] !== "") this.model = c["model"];
    const usage = usageFromChat(c["usage"]);
    if (usage !== null) this.usage = usage;
    const choice = answerChoice(c["choices"]);
    if (this.finishReason !== null) return events;
    const delta = record(choice["delta"]);
    const reasoning = reasoningFromChat(delta);
    if (reasoning !== "") events.push(...this.think(reasoning));
    if (typeof delta["content"] === "string" && delta["content"] !== "") {
      events.push(...this.text("output_text", delta["content"], choice["logprobs"]));
    }
    if (typeof delta["refusal"] === "string" && delta["refusal"] !== "") {
      events.push(...this.text("refusal", delta["refusal"], null));
    }
    if (Array.isArray(delta["tool_calls"])) {
      for (const call of delta["tool_calls"]) events.push(...this.toolCall(record(call)));
    }
    if (typeof choice["finish_reason"] === "string") {
      this.finishReason = choice["finish_reason"];
      events.push(...this.closeItems(finishFromChat(this.finishReason).itemStatus));
    }
    if (this.held > MAX_STREAMED_OUTPUT) {
      this.overran = true;
      const message = `the node's answer is longer than a Responses stream carries (${MAX_STREAMED_OUTPUT} characters)`;
      events.push(...this.fail({ message, code: "server_error" }));
    }
    return events;
  }

  /**
   * The stream's end: `response.completed` (or `response.incomplete`, cut by the cap or a filter) with the usage.
   * A stream that ends before the node gave a finish_reason was cut short: the response fails.
   */
  end(): ResponsesEvent[] {
    if (this.ended) return [];
    if (this.finishReason === null) {
      return this.fail({ message: "the node's answer ended before it was finished", code: "server_error" });
    }
    const events = this.start();
    this.ended = true;
    const finish = finishFromChat(this.finishReason);
    const response: ResponseObject = {
      ...this.snapshot(),
      status: finish.status,
      incomplete_details: finish.incomplete_details,
      completed_at: finish.status === "completed" ? this.ids.now() : null,
    };
    const type = finish.status === "completed" ? "response.completed" : "response.incomplete";
    events.push(this.event({ type, response }));
    return events;
  }

  /**
   * An error mid-stream: OpenAI's `error` event (both SDKs raise it) then `response.failed` with the error, which
   * the AI SDK also raises and which leaves openai-node's accumulated response marked failed.
   */
  fail(error: StreamError): ResponsesEvent[] {
    if (this.ended) return [];
    const events = this.start();
    this.ended = true;
    const code = typeof error.code === "string" ? error.code : "server_error";
    const type = typeof error.type === "string" ? error.type : "server_error";
    events.push(
      this.event({
        type: "error",
        code,
        message: error.message,
        param: null,
        error: { type, code, message: error.message, param: null },
      }),
    );
    const response: ResponseObject = { ...this.snapshot(), status: "failed", error: { code, message: error.message } };
    events.push(this.event({ type: "response.failed", response }));
    return events;
  }

  /** Text or refusal for the message item: opens the item, or a new part when the kind changes. */
  private text(kind: "output_text" | "refusal", delta: string, logprobs: unknown): ResponsesEvent[] {
    const events = this.reasoning === null ? [] : this.closeReasoning(this.reasoning, "completed");
    let message = this.message;
    if (message === null) {
      message = {
        type: "message",
        id: this.ids.newItemId("msg"),
        status: "in_progress",
        role: "assistant",
        content: [],
      };
      this.message = message;
      this.output.push(message);
      this.held += 64;
      events.push(
        this.event({ type: "response.output_item.added", output_index: this.indexOf(message), item: message }),
      );
    }
    const last = message.content[message.content.length - 1];
    if (last === undefined || last.type !== kind) {
      if (last !== undefined) events.push(...this.closePart(message));
      const part =
        kind === "output_text" ? { type: kind, text: "", annotations: [], logprobs: [] } : { type: kind, refusal: "" };
      message.content.push(part);
      this.held += 64;
      events.push(this.event({ type: "response.content_part.added", ...this.partRef(message), part }));
    }
    const part = message.content[message.content.length - 1]!;
    const ref = this.partRef(message);
    this.held += delta.length;
    if (part.type === "output_text") {
      const tokens = logprobsFromChat(logprobs);
      this.held += logprobsSize(tokens);
      part.text += delta;
      part.logprobs.push(...tokens);
      events.push(this.event({ type: "response.output_text.delta", ...ref, delta, logprobs: tokens }));
    } else {
      part.refusal += delta;
      events.push(this.event({ type: "response.refusal.delta", ...ref, delta }));
    }
    return events;
  }

  /** One tool call's fragment: the first for its index opens a function_call item (and ends the message item). */
  private toolCall(call: Json): ResponsesEvent[] {
    const events: ResponsesEvent[] = [];
    // A server that names no index (older Ollama) sends each call whole, in one fragment: each is a new call.
    const index = typeof call["index"] === "number" ? call["index"] : this.calls.size;
    const fn = record(call["function"]);
    let open = this.calls.get(index);
    if (open === undefined) {
      if (this.reasoning !== null) events.push(...this.closeReasoning(this.reasoning, "completed"));
      if (this.message !== null) events.push(...this.closeMessage(this.message, "completed"));
      const callId =
        typeof call["id"] === "string" && call["id"] !== "" ? call["id"] : `call_${this.ids.responseId}_${index}`;
      const name = typeof fn["name"] === "string" ? fn["name"] : "";
      const item: FunctionCallItem = {
        type: "function_call",
        id: this.ids.newItemId("fc"),
        call_id: callId,
        name,
        arguments: "",
        status: "in_progress",
      };
      this.output.push(item);
      this.held += 64 + name.length;
      open = { item, outputIndex: this.output.length - 1 };
      this.calls.set(index, open);
      events.push(this.event({ type: "response.output_item.added", output_index: open.outputIndex, item }));
    } else if (open.item.name === "" && typeof fn["name"] === "string") {
      open.item.name = fn["name"];
      this.held += open.item.name.length;
    }
    if (typeof fn["arguments"] === "string" && fn["arguments"] !== "") {
      open.item.arguments += fn["arguments"];
      this.held += fn["arguments"].length;
      const ref = { item_id: open.item.id, output_index: open.outputIndex };
      events.push(this.event({ type: "response.function_call_arguments.delta", ...ref, delta: fn["arguments"] }));
    }
    return events;
  }

  /** The node finished: every open item ends, in output order. */
  private closeItems(status: "completed" | "incomplete"): ResponsesEvent[] {
    const events = this.reasoning === null ? [] : this.closeReasoning(this.reasoning, status);
    if (this.message !== null) events.push(...this.closeMessage(this.message, status));
    for (const open of [...this.calls.values()].sort((a, b) => a.outputIndex - b.outputIndex)) {
      const { item, outputIndex } = open;
      item.status = status;
      const ref = { item_id: item.id, output_index: outputIndex };
      events.push(
        this.event({
          type: "response.function_call_arguments.done",
          ...ref,
          name: item.name,
          arguments: item.arguments,
        }),
      );
      events.push(this.event({ type: "response.output_item.done", output_index: outputIndex, item }));
    }
    this.calls.clear();
    return events;
  }

  /** Reasoning for the reasoning item, opened with its one reasoning_text part by the first. */
  private think(delta: string): ResponsesEvent[] {
    const events: ResponsesEvent[] = [];
    let item = this.reasoning;
    if (item === null) {
      item = { type: "reasoning", id: this.ids.newItemId("rs"), status: "in_progress", summary: [], content: [] };
      this.reasoning = item;
      this.output.push(item);
      this.held += 64;
      events.push(this.event({ type: "response.output_item.added", output_index: this.indexOf(item), item }));
      const part = { type: "reasoning_text" as const, text: "" };
      item.content.push(part);
      events.push(this.event({ type: "response.content_part.added", ...this.reasoningRef(item), part }));
    }
    item.content[0]!.text += delta;
    this.held += delta.length;
    events.push(this.event({ type: "response.reasoning_text.delta", ...this.reasoningRef(item), delta }));
    return events;
  }

  private closeReasoning(item: ReasoningItem, status: "completed" | "incomplete"): ResponsesEvent[] {
    const ref = this.reasoningRef(item);
    const part = item.content[0]!;
    item.status = status;
    this.reasoning = null;
    return [
      this.event({ type: "response.reasoning_text.done", ...ref, text: part.text }),
      this.event({ type: "response.content_part.done", ...ref, part }),
      this.event({ type: "response.output_item.done", output_index: ref.output_index, item }),
    ];
  }

  private reasoningRef(item: ReasoningItem): { item_id: string; output_index: number; content_index: number } {
    return { item_id: item.id, output_index: this.indexOf(item), content_index: 0 };
  }

  private closeMessage(message: OutputMessage, status: "completed" | "incomplete"): ResponsesEvent[] {
    const events = this.closePart(message);
    message.status = status;
    events.push(this.event({ type: "response.output_item.done", output_index: this.indexOf(message), item: message }));
    this.message = null;
    return events;
  }

  /** The done events of the message's last part. */
  private closePart(message: OutputMessage): ResponsesEvent[] {
    const part = message.content[message.content.length - 1];
    if (part === undefined) return [];
    const ref = this.partRef(message);
    const done: ResponsesEventBody =
      part.type === "output_text"
        ? { type: "response.output_text.done", ...ref, text: part.text, logprobs: part.logprobs }
        : { type: "response.refusal.done", ...ref, refusal: part.refusal };
    return [this.event(done), this.event({ type: "response.content_part.done", ...ref, part })];
  }

  private indexOf(item: OutputItem): number {
    return this.output.indexOf(item);
  }

  private partRef(message: OutputMessage): { item_id: string; output_index: number; content_index: number } {
    return { item_id: message.id, output_index: this.indexOf(message), content_index: message.content.length - 1 };
  }

  private snapshot(): ResponseObject {
    return { ...responseShell(this.req, this.ids, this.model), output: this.output, usage: this.usage };
  }

  /** Numbers the event and copies it: the items it names keep changing after it is sent. */
  private event(body: ResponsesEventBody): ResponsesEvent {
    return structuredClone({ ...body, sequence_number: this.sequence++ });
  }
}
