// Decodes a byte stream's chunks to text exactly as one `new TextDecoder()` fed with `{ stream: true }` does, without
// a decoder per stream: a chunk that ends in an ASCII byte leaves nothing held (an ASCII byte completes or ends any
// character before it), so it is decoded whole by a shared decoder. Servers end every event with "\n", so a stream
// needs its own decoder only while a chunk ends inside a character. In workerd, creating a decoder and flushing it at
// the end cost more than decoding a short answer.

/** A stream's first bytes: a leading byte order mark is dropped, as a fresh TextDecoder drops it. */
const FIRST = new TextDecoder();
/** Any later bytes: a byte order mark there is text. */
const LATER = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export class Utf8Chunks {
  /** Only while the last chunk ended inside a character. */
  private decoder: TextDecoder | null = null;
  private started = false;

  decode(bytes: Uint8Array): string {
    if (bytes.byteLength === 0) return "";
    const endsWhole = bytes[bytes.byteLength - 1]! < 0x80;
    let text: string;
    if (this.decoder === null && endsWhole) text = (this.started ? LATER : FIRST).decode(bytes);
    else {
      this.decoder ??= new TextDecoder("utf-8", { fatal: false, ignoreBOM: this.started });
      text = this.decoder.decode(bytes, { stream: true });
      if (endsWhole) this.decoder = null;
    }
    this.started = true;
    return text;
  }

  /** The end of the stream: what a character cut short becomes (U+FFFD), or "". */
  end(): string {
    const held = this.decoder;
    this.decoder = null;
    return held === null ? "" : held.decode();
  }
}
