// Chat's per-token logprobs (`choices[].logprobs.content`) in the Responses shape of an output_text's logprobs: the
// same fields, with `bytes` always a list (chat servers may send null).
import type { OutputTextLogprob } from "@meshgate/schemas";
import type { Json } from "./json.js";

function bytesOf(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((b): b is number => typeof b === "number") : [];
}

function entry(value: unknown): { token: string; logprob: number; bytes: number[] } | null {
  const e = (typeof value === "object" && value !== null ? value : {}) as Json;
  if (typeof e["token"] !== "string" || typeof e["logprob"] !== "number") return null;
  return { token: e["token"], logprob: e["logprob"], bytes: bytesOf(e["bytes"]) };
}

/** The tokens of a chat choice's (or delta's) logprobs; empty when the node sent none. */
export function logprobsFromChat(logprobs: unknown): OutputTextLogprob[] {
  const content = typeof logprobs === "object" && logprobs !== null ? (logprobs as Json)["content"] : null;
  if (!Array.isArray(content)) return [];
  const out: OutputTextLogprob[] = [];
  for (const token of content) {
    const head = entry(token);
    if (head === null) continue;
    const top = (token as Json)["top_logprobs"];
    const alternatives = Array.isArray(top) ? top.map(entry).filter((t) => t !== null) : [];
    out.push({ ...head, top_logprobs: alternatives });
  }
  return out;
}
