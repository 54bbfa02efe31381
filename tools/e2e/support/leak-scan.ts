// Searching stored bytes, log lines and responses for text that must not be there (prompts, completions), in every
// encoding it could plausibly have been written in.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { LineSink } from "../../processes/index.js";
import { quietSink } from "./quiet.js";

/** A string that must not appear anywhere, and what it is (for the failure message). */
export interface Needle {
  text: string;
  what: string;
}

/** Something searched: a file, a log, a response body. */
export interface Haystack {
  where: string;
  bytes: Buffer;
}

export interface Leak {
  where: string;
  what: string;
  needle: string;
  encoding: "utf8" | "utf16le";
  offset: number;
  /** A few bytes around the hit, printable. */
  context: string;
}

/**
 * Random markers for one request's prompt. The random hex is itself ≥ 12 characters, so storage that splits or
 * re-punctuates the text (the simulated model echoes the words separated by spaces) still leaves a findable needle.
 */
export interface Markers {
  canary: string;
  canary2: string;
  unicode: string;
  /** The random parts alone. */
  hex: string[];
}

export function newMarkers(): Markers {
  const hex = [randomBytes(8).toString("hex"), randomBytes(8).toString("hex"), randomBytes(8).toString("hex")] as const;
  return { canary: `canary-${hex[0]}`, canary2: `canary-${hex[1]}`, unicode: `ünïcødé-${hex[2]}`, hex: [...hex] };
}

/** A prompt that carries each marker, the first one several times. */
export function promptWith(m: Markers): string {
  return `Please repeat ${m.canary} then ${m.unicode}, then ${m.canary2} and ${m.canary} once more (${m.canary}).`;
}

export function markerNeedles(m: Markers, label: string): Needle[] {
  return [
    { text: m.canary, what: `${label}: prompt marker` },
    { text: m.canary2, what: `${label}: prompt marker` },
    { text: m.unicode, what: `${label}: non-ASCII prompt marker` },
    // The \u-escaped form: JSON.stringify never writes it, but other encoders do.
    {
      text: m.unicode.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
      what: `${label}: \\u-escaped non-ASCII prompt marker`,
    },
    ...m.hex.map((h) => ({ text: h, what: `${label}: random part of a prompt marker` })),
  ];
}

/**
 * Distinctive pieces (≥ 12 characters) of a completion the client received: the whole text and every pair of
 * adjacent words, so a truncated or partly stored completion is still found. Only pieces holding one of
 * `randomParts` count: a pair like "Please repeat" is too common to prove anything.
 */
export function completionNeedles(text: string, label: string, randomParts: readonly string[]): Needle[] {
  const out = new Map<string, Needle>();
  const add = (t: string) => {
    if (t.length >= 12 && !out.has(t) && randomParts.some((r) => t.includes(r)))
      out.set(t, { text: t, what: `${label}: completion text` });
  };
  add(text.trim());
  const words = text.trim().split(/\s+/);
  for (let i = 0; i + 1 < words.length; i++) add(`${words[i]} ${words[i + 1]}`);
  return [...out.values()];
}

/** Every regular file under `dir`, recursively, read whole as bytes (SQLite's -wal and -shm files included). */
export function readTree(dir: string): Haystack[] {
  const files: Haystack[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push({ where: relative(dir, path), bytes: readFileSync(path) });
      else if (statSync(path).isFile()) files.push({ where: relative(dir, path), bytes: readFileSync(path) });
    }
  };
  walk(dir);
  return files.sort((a, b) => a.where.localeCompare(b.where));
}

function printable(bytes: Buffer): string {
  return bytes.toString("latin1").replace(/[^\x20-\x7e]/g, ".");
}

/** Every occurrence of every needle, as UTF-8 and as UTF-16LE bytes (SQLite may store text either way). */
export function findLeaks(haystacks: readonly Haystack[], needles: readonly Needle[]): Leak[] {
  const leaks: Leak[] = [];
  for (const needle of needles) {
    for (const encoding of ["utf8", "utf16le"] as const) {
      const pattern = Buffer.from(needle.text, encoding);
      for (const { where, bytes } of haystacks) {
        for (let offset = bytes.indexOf(pattern); offset !== -1; offset = bytes.indexOf(pattern, offset + 1)) {
          const context = printable(bytes.subarray(Math.max(0, offset - 40), offset + pattern.length + 40));
          leaks.push({ where, what: needle.what, needle: needle.text, encoding, offset, context });
        }
      }
    }
  }
  return leaks;
}

/** Whether `text` occurs in any haystack (UTF-8). */
export function occursIn(haystacks: readonly Haystack[], text: string): boolean {
  const pattern = Buffer.from(text, "utf8");
  return haystacks.some((h) => h.bytes.includes(pattern));
}

/** A sink that keeps every line in `lines` (for searching) and also hands it to the quiet sink (shown on failure). */
export function capturingSink(name: string, lines: string[]): LineSink {
  const quiet = quietSink(name);
  return (line, stream) => {
    lines.push(line);
    quiet(line, stream);
  };
}

export function describeLeaks(leaks: readonly Leak[]): string {
  return leaks
    .map((l) => `${l.where} @${l.offset} (${l.encoding}) ${l.what} ${JSON.stringify(l.needle)}: …${l.context}…`)
    .join("\n");
}
