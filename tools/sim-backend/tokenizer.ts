// A deterministic stand-in for a real tokenizer: every run of letters/digits is one token, every other
// non-space character is one token. Good enough for usage counts that are real counts of real text.
const TOKEN = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;
const WORD = /^[\p{L}\p{N}_]+$/u;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Word tokens only (no punctuation), used to build echo-style replies that re-tokenize to the same count. */
export function words(text: string): string[] {
  return tokenize(text).filter((token) => WORD.test(token));
}
