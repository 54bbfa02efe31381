// What a client's request body says about what it may be billed for: how many completions it asks for, the largest
// completion cap any server it may reach honours, whether log probabilities and tool calls may come back, what a stop
// sequence may hide, whether the client asked for output it will not see, and how many media parts its prompt
// carries. The body was validated already (schemas/src/openai.ts): counts are whole, caps positive, a request asking
// for hidden output has a cap, and content parts are of known types.
import { CAP_FIELDS, hiddenOutputField, MEDIA_PART_TYPES, promptCount, utf8Length } from "@meshgate/schemas";

export interface RequestShape {
  /** False for embeddings: nothing is generated. */
  generates: boolean;
  /**
   * Completions one request generates: `n` per prompt (completions take an array of prompts, each answered `n` times).
   */
  choices: number;
  /** The largest completion cap per choice among every cap field a server may honour; null when none is set. */
  cap: number | null;
  /** Log probabilities were asked for: their entries (one per token) come back with the answer. */
  logprobs: boolean;
  /** Tools (or functions) were offered: the answer may call them. */
  tools: boolean;
  /** UTF-8 bytes of the longest stop sequence: a server counts its tokens but takes its text out of the answer. */
  stopBytes: number;
  /**
   * A field that makes the server generate tokens it does not send back (see hiddenOutputField), or null. Then the
   * relayed text bounds nothing, and the client's own cap is the bound.
   */
  hiddenOutput: string | null;
  /** Content parts whose prompt tokens the body's bytes do not bound (an image or audio by reference, a file). */
  mediaParts: number;
}

function wholeNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}

/** `stop`: a string or a list of them. */
function longestStop(stop: unknown): number {
  const stops = typeof stop === "string" ? [stop] : Array.isArray(stop) ? (stop as unknown[]) : [];
  let longest = 0;
  for (const s of stops) if (typeof s === "string") longest = Math.max(longest, utf8Length(s));
  return longest;
}

function offersTools(body: Readonly<Record<string, unknown>>): boolean {
  return [body["tools"], body["functions"]].some((list) => Array.isArray(list) && list.length > 0);
}

/** Chat content parts that carry media: what a model reads them as is not in the body's bytes. */
function mediaPartCount(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let parts = 0;
  for (const message of messages as unknown[]) {
    const content =
      typeof message === "object" && message !== null ? (message as { content?: unknown }).content : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content as unknown[]) {
      const type = typeof part === "object" && part !== null ? (part as { type?: unknown }).type : undefined;
      if (typeof type === "string" && MEDIA_PART_TYPES.has(type)) parts++;
    }
  }
  return parts;
}

export function requestShape(body: Readonly<Record<string, unknown>>, generates: boolean): RequestShape {
  if (!generates)
    return {
      generates,
      choices: 0,
      cap: 0,
      logprobs: false,
      tools: false,
      stopBytes: 0,
      hiddenOutput: null,
      mediaParts: 0,
    };
  const caps = CAP_FIELDS.map((field) => wholeNumber(body[field])).filter((c): c is number => c !== null);
  const n = wholeNumber(body["n"]) ?? 1;
  const logprobs = body["logprobs"] === true || (typeof body["logprobs"] === "number" && body["logprobs"] >= 0);
  return {
    generates,
    choices: Math.max(1, n) * promptCount(body["prompt"]),
    cap: caps.length === 0 ? null : Math.max(...caps),
    logprobs,
    tools: offersTools(body),
    stopBytes: longestStop(body["stop"]),
    hiddenOutput: hiddenOutputField(body),
    mediaParts: mediaPartCount(body["messages"]),
  };
}
