// A Responses request's `instructions` and `input` as Chat Completions messages. Stateless: every item must carry its
// content, or be a reference the gateway minted (item-ids.ts); anything that would need OpenAI's stored state, its
// files, or its built-in tools is refused, naming the item.
import { MAX_CHAT_MESSAGES, type ResponsesInputItem } from "@meshgate/schemas";
import { invalid, ok, refuse, type Invalid, type Result } from "../lib/refusal.js";
import { itemFromId } from "./item-ids.js";
import type { Json } from "./json.js";

export type ChatMessage = Json;

const UNSUPPORTED = "unsupported_parameter";

/** Chat roles of the Responses roles. Developer becomes system: most node servers' chat templates know no developer. */
const CHAT_ROLE: Readonly<Record<string, string>> = {
  user: "user",
  assistant: "assistant",
  system: "system",
  developer: "system",
};

function partsOf(content: unknown): Json[] {
  if (typeof content === "string") return [{ type: "input_text", text: content }];
  return Array.isArray(content) ? (content as Json[]) : [];
}

/** An input_image part as chat's image_url part; an image by OpenAI file id cannot be read by a node. */
function imagePart(part: Json, param: string): Result<Json, Invalid> {
  if (typeof part["image_url"] !== "string" || part["image_url"] === "") {
    return refuse(
      invalid(
        `${param}.image_url`,
        "input_image needs an image_url (a URL or a data: URL): images by file_id live in OpenAI's file store, which nodes cannot read",
        UNSUPPORTED,
      ),
    );
  }
  const detail = typeof part["detail"] === "string" ? { detail: part["detail"] } : {};
  return ok({ type: "image_url", image_url: { url: part["image_url"], ...detail } });
}

/** One content part as chat's; text of any kind (the client's, or the assistant's earlier text or refusal) is text. */
function chatPart(part: Json, param: string): Result<Json, Invalid> {
  switch (part["type"]) {
    case "input_text":
    case "output_text":
      return typeof part["text"] === "string"
        ? ok({ type: "text", text: part["text"] })
        : refuse(invalid(`${param}.text`, "a text part needs a string text"));
    case "refusal":
      return typeof part["refusal"] === "string"
        ? ok({ type: "text", text: part["refusal"] })
        : refuse(invalid(`${param}.refusal`, "a refusal part needs a string refusal"));
    case "input_image":
      return imagePart(part, param);
    case "input_file":
      return refuse(
        invalid(
          `${param}.type`,
          "input_file parts are not supported: nodes serve Chat Completions, which take no files",
          UNSUPPORTED,
        ),
      );
    default:
      return refuse(invalid(`${param}.type`, `${String(part["type"])} content parts are not supported`, UNSUPPORTED));
  }
}

/** Chat content: a string when it is all text (what every server's template reads), else the parts. */
function chatContent(content: unknown, param: string, imagesAllowed: boolean): Result<string | Json[], Invalid> {
  const parts: Json[] = [];
  for (const [j, part] of partsOf(content).entries()) {
    const converted = chatPart(part, `${param}.content[${j}]`);
    if (!converted.ok) return converted;
    if (converted.value["type"] !== "text" && !imagesAllowed) {
      return refuse(invalid(`${param}.content[${j}].type`, "images are only supported in user messages", UNSUPPORTED));
    }
    parts.push(converted.value);
  }
  if (parts.every((p) => p["type"] === "text")) return ok(parts.map((p) => p["text"] as string).join(""));
  return ok(parts);
}

function messageFrom(item: ResponsesInputItem, param: string): Result<ChatMessage, Invalid> {
  const role = CHAT_ROLE[item.role ?? ""];
  if (role === undefined) {
    return refuse(invalid(`${param}.role`, "a message's role must be user, assistant, system or developer"));
  }
  if (item.content === undefined) return refuse(invalid(`${param}.content`, "a message needs content"));
  const content = chatContent(item.content, param, role === "user");
  return content.ok ? ok({ role, content: content.value }) : content;
}

/** A function_call_output's output as a tool message's text (chat tool messages carry text only). */
function toolOutput(item: ResponsesInputItem, param: string): Result<string, Invalid> {
  if (typeof item.output === "string") return ok(item.output);
  const texts: string[] = [];
  for (const [j, part] of partsOf(item.output).entries()) {
    if (part["type"] !== "input_text" || typeof part["text"] !== "string") {
      return refuse(
        invalid(
          `${param}.output[${j}].type`,
          "a function_call_output's output parts must be input_text: chat tool messages carry text only",
          UNSUPPORTED,
        ),
      );
    }
    texts.push(part["text"]);
  }
  return ok(texts.join(""));
}

/**
 * Appends a message. The assistant's text after its own calls (one answer's items, in whichever order) joins the
 * message holding the calls: chat wants the tool messages right after the message with the calls.
 */
function addMessage(messages: ChatMessage[], message: ChatMessage): void {
  const last = messages[messages.length - 1];
  if (message["role"] === "assistant" && last?.["role"] === "assistant" && last["content"] === null) {
    last["content"] = message["content"];
  } else {
    messages.push(message);
  }
}

/** Appends a call to the assistant message just before it (chat keeps one answer's calls together), or starts one. */
function addToolCall(messages: ChatMessage[], item: ResponsesInputItem, param: string): Invalid | null {
  if (item.call_id === undefined || item.name === undefined || item.arguments === undefined) {
    return invalid(param, "a function_call item needs call_id, name and arguments");
  }
  const call = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
  const last = messages[messages.length - 1];
  if (last !== undefined && last["role"] === "assistant") {
    // Appended in place: copying the list for each call made a history of n calls cost n² (10,000 calls: ~110 ms).
    const calls = last["tool_calls"];
    if (Array.isArray(calls)) calls.push(call);
    else last["tool_calls"] = [call];
  } else {
    messages.push({ role: "assistant", content: null, tool_calls: [call] });
  }
  return null;
}

/**
 * An item_reference the gateway minted becomes its item; one to reasoning is dropped, as reasoning items are; any
 * other cannot be resolved by a gateway that stores nothing.
 */
function resolved(item: ResponsesInputItem, param: string): Result<ResponsesInputItem, Invalid> {
  if (item.type !== "item_reference") return ok(item);
  if (typeof item.id === "string" && item.id.startsWith("rs_")) return ok({ type: "reasoning" });
  const found = typeof item.id === "string" ? itemFromId(item.id) : null;
  if (found !== null) return ok(found);
  return refuse(
    invalid(
      `${param}.id`,
      "item_reference cannot be resolved: this gateway stores no responses, so send the item itself " +
        "(with the AI SDK: providerOptions: { openai: { store: false } })",
      UNSUPPORTED,
    ),
  );
}

/**
 * The input as a node that serves the Responses API itself must get it: every reference to an item the gateway minted
 * replaced by that item (the node never saw those ids), references to reasoning dropped. The chat translation has
 * already refused any reference that cannot be resolved.
 */
export function inputWithItems(input: readonly ResponsesInputItem[]): ResponsesInputItem[] {
  return input.flatMap((item, i) => {
    if (item.type !== "item_reference") return [item];
    const found = resolved(item, `input[${i}]`);
    if (!found.ok || found.value.type === "reasoning") return [];
    return [found.value];
  });
}

function addItem(messages: ChatMessage[], item: ResponsesInputItem, param: string): Invalid | null {
  switch (item.type ?? "message") {
    case "message": {
      const message = messageFrom(item, param);
      if (!message.ok) return message.refusal;
      addMessage(messages, message.value);
      return null;
    }
    case "function_call":
      return addToolCall(messages, item, param);
    case "function_call_output": {
      if (item.call_id === undefined) return invalid(`${param}.call_id`, "a function_call_output needs its call_id");
      const output = toolOutput(item, param);
      if (!output.ok) return output.refusal;
      messages.push({ role: "tool", tool_call_id: item.call_id, content: output.value });
      return null;
    }
    // Chat Completions has no place for earlier reasoning: the model reasons afresh, as a chat client's would.
    case "reasoning":
      return null;
    default:
      return invalid(
        `${param}.type`,
        `${item.type} items are not supported: only messages, function calls and their outputs`,
        UNSUPPORTED,
      );
  }
}

/** The chat messages of `instructions` and `input`, or the first item that cannot be translated. */
export function chatMessagesFrom(
  instructions: string | null | undefined,
  input: string | readonly ResponsesInputItem[] | undefined,
): Result<ChatMessage[], Invalid> {
  const messages: ChatMessage[] = [];
  if (typeof instructions === "string" && instructions !== "") messages.push({ role: "system", content: instructions });
  if (typeof input === "string") messages.push({ role: "user", content: input });
  for (const [i, raw] of (typeof input === "string" ? [] : (input ?? [])).entries()) {
    const item = resolved(raw, `input[${i}]`);
    if (!item.ok) return item;
    const refusal = addItem(messages, item.value, `input[${i}]`);
    if (refusal !== null) return refuse(refusal);
  }
  if (messages.length === 0)
    return refuse(invalid("input", "input is required (a string or a list of items)", "missing_required_parameter"));
  // Said here, naming input: the chat schema the translation is checked against next would name its own `messages`.
  if (messages.length > MAX_CHAT_MESSAGES) {
    return refuse(
      invalid(
        "input",
        `instructions and input make at most ${MAX_CHAT_MESSAGES} messages for the node; send fewer items`,
      ),
    );
  }
  return ok(messages);
}
