// Parses `--context-length MODEL=N` (repeatable): the tokens of context (prompt and completion together) a model is
// served with, for servers that do not report it (vLLM does, as `max_model_len`; this overrides it).
import { MAX_CONTEXT_TOKENS, ModelIdSchema } from "@meshgate/schemas";
import { UsageError } from "./usage-error.js";

const INTEGER = /^\d+$/;

function parseContextLength(text: string): [string, number] {
  // Split at the last "=": a model id may contain one, a number never does.
  const eq = text.lastIndexOf("=");
  const model = text.slice(0, Math.max(eq, 0));
  const digits = text.slice(eq + 1);
  const tokens = Number(digits);
  if (
    eq <= 0 ||
    !ModelIdSchema.safeParse(model).success ||
    !INTEGER.test(digits) ||
    tokens < 1 ||
    tokens > MAX_CONTEXT_TOKENS
  ) {
    throw new UsageError(
      `--context-length must be MODEL=TOKENS with an integer from 1 to ${MAX_CONTEXT_TOKENS}, got ${JSON.stringify(text)}`,
    );
  }
  return [model, tokens];
}

/** Each model's context length; a model named twice is a mistake, not an override. */
export function parseContextLengths(texts: readonly string[]): Map<string, number> {
  const lengths = new Map<string, number>();
  for (const text of texts) {
    const [model, tokens] = parseContextLength(text);
    if (lengths.has(model)) throw new UsageError(`--context-length names ${JSON.stringify(model)} twice`);
    lengths.set(model, tokens);
  }
  return lengths;
}
