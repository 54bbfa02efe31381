import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDevVars, readDevVars } from "./dev-vars.js";

const dirs: string[] = [];
function scratchFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "meshgate-dev-vars-"));
  dirs.push(dir);
  return join(dir, ".dev.vars");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe(".dev.vars", () => {
  it("is generated with every secret, API_KEY_SECRET a 32-byte base64url value", () => {
    const path = scratchFile();
    const { vars, created } = ensureDevVars(path);
    expect(created).toBe(true);
    expect(Buffer.from(vars.API_KEY_SECRET, "base64url")).toHaveLength(32);
    expect(readDevVars(path)).toEqual(vars);
  });

  it("made before API_KEY_SECRET existed gets one appended, keeping what it had", () => {
    const path = scratchFile();
    // No trailing newline: the appended line must not run into the last one.
    writeFileSync(path, "ADMIN_TOKEN=admin\nGATEWAY_SIGNING_KEY=seed");
    const { vars, created } = ensureDevVars(path);
    expect(created).toBe(false);
    expect(vars).toMatchObject({ ADMIN_TOKEN: "admin", GATEWAY_SIGNING_KEY: "seed" });
    expect(Buffer.from(vars.API_KEY_SECRET, "base64url")).toHaveLength(32);
    // Appended once: read again, the same secret.
    expect(readDevVars(path).API_KEY_SECRET).toBe(vars.API_KEY_SECRET);
    expect(readFileSync(path, "utf8").match(/API_KEY_SECRET=/g)).toHaveLength(1);
  });
});
