// Reads node-agent/Dockerfile's instructions, so tests can hold it to what the pack script produces (docker itself is
// not needed, nor available everywhere the tests run).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AGENT_DIR } from "./agent-package.js";

export const AGENT_DOCKERFILE = join(AGENT_DIR, "Dockerfile");

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

/** Instructions in order, upper-cased keywords; comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && pending === "")) continue;
    pending += line.endsWith("\\") ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith("\\")) continue;
    const match = /^(\S+)\s*(.*)$/.exec(pending);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
    pending = "";
  }
  return instructions;
}

export async function readAgentDockerfile(): Promise<Instruction[]> {
  return parseDockerfile(await readFile(AGENT_DOCKERFILE, "utf8"));
}

/** The exec form's words (`["a", "b"]`); null for the shell form. */
export function execForm(args: string): string[] | null {
  if (!args.startsWith("[")) return null;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((w) => typeof w === "string") ? parsed : null;
}

/** The sources of each COPY (everything but the destination and `--` flags). */
export function copySources(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === "COPY")
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((w) => !w.startsWith("--"))
        .slice(0, -1),
    );
}

/** Whether a file name matches a Dockerfile/.dockerignore pattern's `*` and `?` (no path separators involved). */
export function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${regex}$`).test(name);
}
