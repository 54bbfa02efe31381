// Adds up what an answer relayed to its client, chunk by chunk or whole (see schemas' relayed-output.ts): the
// evidence a node's completion-token claim is bounded by.
import { chunkTokens, choiceOutputs } from "@meshgate/schemas";

export class OutputTally {
  textBytes = 0;
  logprobTokens = 0;
  toolCalls = 0;
  /** Tokens counted a chunk at a time, as a node counts an answer it relayed only in part: an estimate. */
  chunkTokens = 0;

  /** One answer object or stream chunk, already parsed. */
  add(value: unknown): void {
    for (const output of choiceOutputs(value)) {
      this.textBytes += output.textBytes;
      this.logprobTokens += output.logprobTokens;
      this.toolCalls += output.toolCalls;
      this.chunkTokens += chunkTokens(output);
    }
  }
}
