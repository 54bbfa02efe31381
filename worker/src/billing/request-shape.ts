// What a client's request body says about what it may be billed for: how many completions it asks for, the largest
// completion cap any server it may reach honours, whether log probabilities come back, and how many media parts
// its prompt carries. The body was validated already (schemas/src/openai.ts): counts are whole, caps positive.

export interface RequestShape {
  /** False for embeddings: nothing is generated. */
  generates: boolean;
  /** Completions one request generates: `n` per prompt (completions take an array of prompts, each answered `n` times). */
  choices: number;
  /** The largest completion cap per choice among every cap field a server may honour; null when none is set. */
  cap: number | null;
  /** Log probabilities were asked for: their entries (one per token) come back with the answer. */
  logprobs: boolean;
  /** Content parts whose prompt tokens the body's bytes do not bound (an image or audio by reference, a file). */
  mediaParts: number;
}

/** Every field a server may read as the completion cap: OpenAI's two, and those of llama.cpp, Ollama and TGI. */
const CAP_FIELDS = ["max_completion_tokens", "max_tokens", "n_predict", "num_predict", "max_new_tokens"] as const;

function wholeNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}

/** Completions' `prompt`: a string or token list is one prompt; an array of strings or of token lists, one each. */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return typeof prompt[0] === "number" ? 1 : prompt.length;
}

/** Chat content parts other than text: what a model reads them as is not in the body's bytes. */
function mediaPartCount(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let parts = 0;
  for (const message of messages as unknown[]) {
    const content = typeof message === "object" && message !== null ? (message as { content?: unknown }).content : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content as unknown[]) {
      const type = typeof part === "object" && part !== null ? (part as { type?: unknown }).type : undefined;
      if (type !== undefined && type !== "text") parts++;
    }
  }
  return parts;
}

export function requestShape(body: Readonly<Record<string, unknown>>, generates: boolean): RequestShape {
  if (!generates) return { generates, choices: 0, cap: 0, logprobs: false, mediaParts: 0 };
  const caps = CAP_FIELDS.map((field) => wholeNumber(body[field])).filter((c): c is number => c !== null);
  const n = wholeNumber(body["n"]) ?? 1;
  const logprobs = body["logprobs"] === true || (typeof body["logprobs"] === "number" && body["logprobs"] >= 0);
  return {
    generates,
    choices: Math.max(1, n) * promptCount(body["prompt"]),
    cap: caps.length === 0 ? null : Math.max(...caps),
    logprobs,
    mediaParts: mediaPartCount(body["messages"]),
  };
}
