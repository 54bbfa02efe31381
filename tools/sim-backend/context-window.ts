// vLLM's context check, for a backend started with a context length: the prompt plus the completion cap must fit in
// `max_model_len`, or the request is refused with a 400 in vLLM's older error shape (not OpenAI's); a request without
// a cap is given the rest of the context (vLLM's default max_tokens).
import { ApiError } from "./http-io.js";

/** vLLM's `{"object":"error",…,"code":400}` body, which a gateway must turn into OpenAI's shape for its client. */
export class ContextLengthError extends ApiError {
  constructor(message: string) {
    super(400, message, "BadRequestError");
  }

  override body(): unknown {
    return { object: "error", message: this.message, type: "BadRequestError", param: null, code: 400 };
  }
}

/**
 * The completion tokens a request may produce: its cap, or without one what is left of the context; null = no limit.
 */
export function completionBudget(
  promptTokens: number,
  requested: number | null,
  contextLength: number | undefined,
): number | null {
  if (contextLength === undefined) return requested;
  const limit = `This model's maximum context length is ${contextLength} tokens.`;
  if (requested === null) {
    if (promptTokens >= contextLength) {
      throw new ContextLengthError(
        `${limit} However, you requested ${promptTokens} tokens in the messages, Please reduce the length of the messages.`,
      );
    }
    return contextLength - promptTokens;
  }
  if (promptTokens + requested > contextLength) {
    throw new ContextLengthError(
      `${limit} However, you requested ${promptTokens + requested} tokens (${promptTokens} in the messages, ${requested} in the completion). Please reduce the length of the messages or completion.`,
    );
  }
  return requested;
}
