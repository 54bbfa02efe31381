// Turns the data events of an OpenAI-compatible stream into the whole answer the same request would have had without
// `stream: true`. The gateway asks nodes to stream every chat/completions request (so a hung node shows within one
// first-token timeout, streamed or not) and assembles the answer itself for a client that did not ask for a stream.
// Merged as the SDKs merge deltas (openai-node's ChatCompletionStream), choices and tool calls numbered as the meter
// numbers them (schemas' relayed-output.ts), so the answer holds exactly what the node is paid for relaying.
import { MAX_TOOL_CALLS_PER_CHOICE } from "./output-tally.js";

export type AnswerKind = "chat" | "completions";

type Json = Record<string, unknown>;

// Objects are walked with for-in and Object.hasOwn rather than Object.entries: the same own keys in the same order,
// without an array of pairs per object of every chunk (the assembler walks each chunk once, on the request path).

const ANSWER_OBJECT: Record<AnswerKind, string> = { chat: "chat.completion", completions: "text_completion" };

/** Per-chunk fields with no meaning in a whole answer: OpenAI's random padding against length side channels. */
const STREAM_ONLY_FIELDS = new Set(["obfuscation"]);

/** Text fields of a chat delta that servers split over chunks (vLLM/llama.cpp reasoning under either name). */
const CONCATENATED_MESSAGE_FIELDS = ["refusal", "reasoning_content", "reasoning"] as const;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The meter's numbering: a choice's or call's own `index` when it is a usable one, else its position. */
function indexOf(value: Json, position: number): number {
  const index = value["index"];
  return typeof index === "number" && Number.isSafeInteger(index) && index >= 0 ? index : position;
}

/** Appends without spreading (a spread of a huge array overflows the call stack). */
function appendAll(into: unknown[], items: readonly unknown[]): void {
  for (const item of items) into.push(item);
}

/**
 * Fields kept in first-seen order (a server's chunks list them in its answers' order). Repeated fields: the last
 * non-null value wins, a field only ever null stays null. Arrays given to `append` are concatenated instead.
 * A Map, turned into an object by Object.fromEntries, so a `__proto__` key is data, never a prototype.
 */
class Fields {
  private readonly slots = new Map<string, { last: unknown; array: unknown[] | null }>();

  setLast(key: string, value: unknown): void {
    const slot = this.slots.get(key);
    if (!slot) this.slots.set(key, { last: value ?? null, array: null });
    else if (value !== null && value !== undefined) slot.last = value;
  }

  append(key: string, items: readonly unknown[]): void {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { last: null, array: [] };
      this.slots.set(key, slot);
    }
    slot.array ??= [];
    appendAll(slot.array, items);
  }

  toObject(): Json {
    return Object.fromEntries(Array.from(this.slots, ([key, slot]) => [key, slot.array ?? slot.last]));
  }
}

/** A string split over chunks: pieces joined once at the end. null until a string came. */
class Text {
  private pieces: string[] | null = null;

  add(value: unknown): void {
    if (typeof value !== "string") return;
    this.pieces ??= [];
    this.pieces.push(value);
  }

  value(): string | null {
    return this.pieces === null ? null : this.pieces.join("");
  }
}

/**
 * A message's content: strings concatenated; content-part arrays (some servers stream parts) appended in order, the
 * text around them kept as text parts. null until either came, as a whole answer's content is for pure tool calls.
 */
class Content {
  /** Text since the last part array. */
  private text = new Text();
  private parts: unknown[] | null = null;

  add(value: unknown): void {
    if (typeof value === "string") this.text.add(value);
    else if (Array.isArray(value)) {
      this.parts = this.withText(this.parts ?? []);
      this.text = new Text();
      appendAll(this.parts, value);
    }
  }

  value(): string | unknown[] | null {
    return this.parts === null ? this.text.value() : this.withText(this.parts.slice());
  }

  private withText(parts: unknown[]): unknown[] {
    const text = this.text.value();
    if (text) parts.push({ type: "text", text });
    return parts;
  }
}

/**
 * `logprobs`: entry arrays (chat's content/refusal, completions' tokens, token_logprobs, top_logprobs, text_offset)
 * concatenated.
 */
class Logprobs {
  private fields: Fields | null = null;

  add(value: unknown): void {
    if (!isObject(value)) return;
    this.fields ??= new Fields();
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const field = value[key];
      if (Array.isArray(field)) this.fields.append(key, field);
      else this.fields.setLast(key, field);
    }
  }

  value(): Json | null {
    return this.fields === null ? null : this.fields.toObject();
  }
}

/**
 * A function named over deltas: the last non-empty name (as openai-node; servers that repeat it would double it),
 * arguments concatenated.
 */
class FunctionCall {
  private name = "";
  private readonly args = new Text();
  private readonly extras = new Fields();

  add(fn: Json): void {
    for (const key in fn) {
      if (!Object.hasOwn(fn, key)) continue;
      const value = fn[key];
      if (key === "name") {
        if (typeof value === "string" && value !== "") this.name = value;
      } else if (key === "arguments") this.args.add(value);
      else this.extras.setLast(key, value);
    }
  }

  value(): Json {
    return { name: this.name, arguments: this.args.value() ?? "", ...this.extras.toObject() };
  }
}

/** One tool call merged from its deltas; `index` is the merge key and, as in whole answers, not part of the call. */
class ToolCall {
  private id: string | null = null;
  private type: string | null = null;
  private readonly fn = new FunctionCall();
  private readonly extras = new Fields();

  add(call: Json): void {
    for (const key in call) {
      if (!Object.hasOwn(call, key)) continue;
      const value = call[key];
      if (key === "index") continue;
      if (key === "id" || key === "type") {
        if (typeof value === "string" && value !== "") this[key] = value;
      } else if (key === "function") {
        if (isObject(value)) this.fn.add(value);
      } else this.extras.setLast(key, value);
    }
  }

  value(): Json {
    // A call without an id keeps none (the gateway invents nothing); one without a type is a function call.
    return {
      ...(this.id === null ? {} : { id: this.id }),
      type: this.type ?? "function",
      function: this.fn.value(),
      ...this.extras.toObject(),
    };
  }
}

/** A choice's own fields, shared by both kinds: logprobs, finish_reason and anything else (vLLM's stop_reason). */
abstract class ChoiceBuilder {
  private readonly logprobs = new Logprobs();
  /** finish_reason and the rest, last non-null winning. */
  private readonly extras = new Fields();

  add(choice: Json): void {
    for (const key in choice) {
      if (!Object.hasOwn(choice, key)) continue;
      const value = choice[key];
      if (key === "index") continue;
      if (key === "logprobs") this.logprobs.add(value);
      else if (!this.addOwn(key, value, choice)) this.extras.setLast(key, value);
    }
  }

  /** Takes the fields this kind of choice merges itself; false for the rest. */
  protected abstract addOwn(key: string, value: unknown, choice: Json): boolean;

  protected common(): { logprobs: Json | null; finish_reason: unknown } & Json {
    return { logprobs: this.logprobs.value(), finish_reason: null, ...this.extras.toObject() };
  }

  abstract value(index: number): Json;
}

class CompletionChoice extends ChoiceBuilder {
  private readonly text = new Text();

  protected addOwn(key: string, value: unknown): boolean {
    if (key !== "text") return false;
    this.text.add(value);
    return true;
  }

  value(index: number): Json {
    return { text: this.text.value() ?? "", index, ...this.common() };
  }
}

class ChatChoice extends ChoiceBuilder {
  private role: string | null = null;
  private readonly content = new Content();
  private readonly concatenated = new Map<string, Text>();
  private toolCalls: Map<number, ToolCall> | null = null;
  private functionCall: FunctionCall | null = null;
  private readonly messageExtras = new Fields();

  protected addOwn(key: string, value: unknown, choice: Json): boolean {
    if (key !== "delta" && key !== "message") return false;
    // As the meter reads a choice: its `message` when it has one, else its `delta`.
    const delta = isObject(choice["message"]) ? choice["message"] : choice["delta"];
    if (value === delta && isObject(delta)) this.addDelta(delta);
    return true;
  }

  private addDelta(delta: Json): void {
    for (const key in delta) {
      if (!Object.hasOwn(delta, key)) continue;
      const value = delta[key];
      if (key === "role") {
        if (this.role === null && typeof value === "string" && value !== "") this.role = value;
      } else if (key === "content") this.content.add(value);
      else if (key === "tool_calls") this.addToolCalls(value);
      else if (key === "function_call") {
        if (isObject(value)) {
          this.functionCall ??= new FunctionCall();
          this.functionCall.add(value);
        }
      } else if ((CONCATENATED_MESSAGE_FIELDS as readonly string[]).includes(key))
        this.concatenatedField(key).add(value);
      else this.messageExtras.setLast(key, value);
    }
  }

  private concatenatedField(key: string): Text {
    let text = this.concatenated.get(key);
    if (!text) {
      text = new Text();
      this.concatenated.set(key, text);
    }
    return text;
  }

  /** Deltas of one call share its index; indexes past the meter's bound per choice are dropped, as it counts none. */
  private addToolCalls(value: unknown): void {
    if (!Array.isArray(value)) return;
    this.toolCalls ??= new Map<number, ToolCall>();
    const calls = this.toolCalls;
    for (let position = 0; position < value.length; position++) {
      const call: unknown = value[position];
      if (!isObject(call)) continue;
      const index = indexOf(call, position);
      let merged = calls.get(index);
      if (!merged) {
        if (calls.size >= MAX_TOOL_CALLS_PER_CHOICE) continue;
        merged = new ToolCall();
        calls.set(index, merged);
      }
      merged.add(call);
    }
  }

  private message(): Json {
    const message: Json = { role: this.role ?? "assistant", content: this.content.value(), refusal: null };
    for (const [key, text] of this.concatenated) message[key] = text.value();
    if (this.toolCalls !== null) message["tool_calls"] = sortedByKey(this.toolCalls).map((call) => call.value());
    if (this.functionCall !== null) message["function_call"] = this.functionCall.value();
    return { ...message, ...this.messageExtras.toObject() };
  }

  value(index: number): Json {
    return { index, message: this.message(), ...this.common() };
  }
}

function sortedByKey<T>(map: Map<number, T>): T[] {
  return Array.from(map.keys())
    .sort((a, b) => a - b)
    .map((key) => map.get(key)!);
}

/**
 * Feed it each parsed data payload of a stream (not `[DONE]`), in order; `result()` is the whole answer. Never throws:
 * what cannot be merged is ignored. Memory and time are linear in what it is fed, whatever the shapes.
 */
export class AnswerAssembler {
  private readonly fields = new Fields();
  private readonly choices = new Map<number, ChoiceBuilder>();
  /** Payloads merged into the answer. */
  chunks = 0;
  /** Payloads that were not a JSON object (merged nowhere). */
  ignored = 0;
  /**
   * The first error envelope (`{"error": ...}` without choices) the stream carried: the answer is this, not a
   * completion.
   */
  error: Json | null = null;

  /**
   * `maxChoices`: how many choices the request asked for (`RequestShape.choices`); others are dropped, as the meter
   * counts none.
   */
  constructor(
    readonly kind: AnswerKind,
    readonly maxChoices: number,
  ) {}

  add(value: unknown): void {
    if (!isObject(value)) {
      this.ignored++;
      return;
    }
    if ("error" in value && !("choices" in value)) {
      this.error ??= value;
      return;
    }
    this.chunks++;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const field = value[key];
      if (STREAM_ONLY_FIELDS.has(key)) continue;
      // `object` and `choices` keep their place in the answer; their values are the assembler's.
      if (key === "object" || key === "choices") this.fields.setLast(key, null);
      else this.fields.setLast(key, field);
      if (key === "choices" && Array.isArray(field)) this.addChoices(field);
    }
  }

  private addChoices(choices: unknown[]): void {
    for (let position = 0; position < choices.length; position++) {
      const choice: unknown = choices[position];
      if (!isObject(choice)) continue;
      const index = indexOf(choice, position);
      if (!(index < this.maxChoices)) continue;
      let builder = this.choices.get(index);
      if (!builder) {
        builder = this.kind === "chat" ? new ChatChoice() : new CompletionChoice();
        this.choices.set(index, builder);
      }
      builder.add(choice);
    }
  }

  /** The whole answer once the stream has ended: its fields, `object` as a whole answer names it, choices by index. */
  result(): Json {
    const choices = Array.from(this.choices.keys())
      .sort((a, b) => a - b)
      .map((index) => this.choices.get(index)!.value(index));
    return { ...this.fields.toObject(), object: ANSWER_OBJECT[this.kind], choices };
  }
}
