// How a relay variant reads its copy of a teed body: a chunk at a time; in batches (readAtLeast, which the runtime's
// tee passes on to the body, so the client's branch gets batches too); or polled (all that came, a byte at least,
// then 100 ms of rest once drained), which leaves the client's pace alone.
export type CopyRead = "chunks" | "batches" | "poll";

const ROOM = 64 * 1024;

export async function drain(copy: ReadableStream<Uint8Array>, read: CopyRead): Promise<void> {
  if (read === "chunks") {
    const reader = copy.getReader();
    while (!(await reader.read()).done);
    return;
  }
  const reader = copy.getReader({ mode: "byob" });
  if (read === "batches") {
    while (!(await reader.readAtLeast(8192, new Uint8Array(16384))).done);
    return;
  }
  for (;;) {
    const step = await reader.readAtLeast(1, new Uint8Array(ROOM));
    if (step.done) return;
    if ((step.value?.byteLength ?? 0) < ROOM) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
