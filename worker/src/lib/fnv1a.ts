// FNV-1a, 32 bits: a fast, stable string hash for placing things in shards. Not for secrets: anyone can aim at a shard.

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
