// OpenAI's error body, strictly (../openai.ts): what every refusal of the gateway and the agent must look like, checked
// by the tests that throw hostile input at them.
import { z } from "zod";
import { OpenAIErrorBodySchema, type OpenAIErrorBody } from "../openai.js";

export { OpenAIErrorBodySchema };

type Checked = { ok: true; body: OpenAIErrorBody } | { ok: false; problem: string };

function check(text: string): Checked {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the body is not JSON" };
  }
  const parsed = OpenAIErrorBodySchema.safeParse(json);
  if (parsed.success) return { ok: true, body: parsed.data };
  return { ok: false, problem: `not an OpenAI error body: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}` };
}

/** Why `text` is not an OpenAI error body, or null when it is one. */
export function openAIErrorProblem(text: string): string | null {
  const checked = check(text);
  return checked.ok ? null : checked.problem;
}

/** The error of an OpenAI error body; throws, saying why and showing the text, for anything else. */
export function parseOpenAIError(text: string): OpenAIErrorBody["error"] {
  const checked = check(text);
  if (!checked.ok) throw new Error(`${checked.problem}: ${text.slice(0, 500)}`);
  return checked.body.error;
}
