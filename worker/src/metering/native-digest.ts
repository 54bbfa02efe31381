// The digests a node's receipt names, computed by the runtime (crypto.DigestStream, crypto.subtle) rather than in
// JavaScript: a pure-JS sha256 of every streamed event was the largest single cost of metering an answer in workerd.
// Same bytes as schemas' StreamDigest and bodyDigest (native-digest.workers.test.ts checks them against each other).
import { digestText } from "@meshgate/schemas";

/** Payload text gathered before it is handed to the runtime's hash in one write. */
const FLUSH_CHARS = 32 * 1024;

const encoder = new TextEncoder();

/**
 * StreamDigest of a stream's data payloads (each followed by "\n"), hashed natively in batches. A stream whose
 * payloads never reach FLUSH_CHARS (most answers) is hashed in one crypto.subtle.digest at the end, which is cheaper
 * than setting up a DigestStream; a longer one opens the DigestStream at its first flush, so memory stays bounded.
 */
export class NativeStreamDigest {
  /** Opened at the first flush: a short stream never needs one. */
  private sink: { stream: DigestStream; writer: WritableStreamDefaultWriter<ArrayBuffer | ArrayBufferView> } | null =
    null;
  private pending = "";
  private result: Promise<string> | null = null;

  add(data: string): void {
    this.pending += `${data}\n`;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
  }

  /** The digest of everything added; adding after this is an error. */
  finish(): Promise<string> {
    if (!this.result) {
      // Never rejects: a digest that cannot be made matches no receipt, and the answer is recorded unbilled.
      this.result = this.digest().then(
        (hash) => digestText(new Uint8Array(hash)),
        () => "",
      );
    }
    return this.result;
  }

  private async digest(): Promise<ArrayBuffer> {
    if (this.sink === null) return crypto.subtle.digest("SHA-256", encoder.encode(this.pending));
    this.flush();
    this.sink.writer.close().catch(() => {});
    return this.sink.stream.digest;
  }

  private flush(): void {
    if (this.pending === "") return;
    if (this.sink === null) {
      const stream = new crypto.DigestStream("SHA-256");
      this.sink = { stream, writer: stream.getWriter() };
    }
    // Writes queue in order; their promises settle with the digest, which is what is awaited.
    this.sink.writer.write(encoder.encode(this.pending)).catch(() => {});
    this.pending = "";
  }
}

/** bodyDigest of a whole answer, hashed natively. */
export async function nativeBodyDigest(body: Uint8Array): Promise<string> {
  return digestText(new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
}
