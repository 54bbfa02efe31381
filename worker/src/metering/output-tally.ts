// Adds up what an answer relayed to its client, choice by choice, chunk by chunk or whole (see schemas'
// relayed-output.ts): the evidence a node's completion-token claim is bounded by.
import { chunkTokens, choiceOutputs, type ChoiceOutput } from "@meshgate/schemas";

/**
 * Distinct tool calls counted per choice: far more than any model makes in one turn, and what keeps a node that
 * numbers every delta as a new call from growing the tally without end.
 */
export const MAX_TOOL_CALLS_PER_CHOICE = 128;

/** What one choice carried, over every chunk of the answer. */
export interface ChoiceTally {
  textBytes: number;
  logprobTokens: number;
  /** Distinct tool-call indexes, as the client merges them. */
  toolCalls: Set<number>;
}

export class OutputTally {
  /** Only the choices the request asked for: a node numbering choices past them relays nothing billable. */
  private readonly perChoice = new Map<number, ChoiceTally>();
  /** UTF-8 bytes of text over every choice. */
  textBytes = 0;
  /** Tokens counted a chunk at a time, as a node counts an answer it relayed only in part: an estimate. */
  chunkTokens = 0;

  /** `choices`: how many the request asked for (`RequestShape.choices`). */
  constructor(readonly choices: number) {}

  /** One chat or completions answer object or stream chunk, already parsed. */
  add(value: unknown): void {
    this.addOutputs(choiceOutputs(value));
  }

  /** What one payload carried, as its stream's dialect reads it (schemas' stream-dialect.ts). */
  addOutputs(outputs: readonly ChoiceOutput[]): void {
    for (const output of outputs) {
      if (output.index >= this.choices) continue;
      let tally = this.perChoice.get(output.index);
      if (!tally) {
        tally = { textBytes: 0, logprobTokens: 0, toolCalls: new Set() };
        this.perChoice.set(output.index, tally);
      }
      tally.textBytes += output.textBytes;
      tally.logprobTokens += output.logprobTokens;
      for (const index of output.toolCallIndexes)
        if (tally.toolCalls.size < MAX_TOOL_CALLS_PER_CHOICE) tally.toolCalls.add(index);
      this.textBytes += output.textBytes;
      this.chunkTokens += chunkTokens(output);
    }
  }

  /** What choice `index` carried; undefined when nothing came for it. */
  choice(index: number): Readonly<ChoiceTally> | undefined {
    return this.perChoice.get(index);
  }

  /** The choices anything came for. */
  indexes(): IterableIterator<number> {
    return this.perChoice.keys();
  }
}
