import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../test/run-cli.js";
import { jwkThumbprint } from "@meshgate/schemas";
import { readKeyFile } from "../identity/key-file.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "node-agent-keygen-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("node-agent keygen", () => {
  it("writes an owner-only JWK and prints the node id: the key's RFC 7638 thumbprint", {
    timeout: 20_000,
  }, async () => {
    const result = await runCli(["keygen", "--key-file", "node.json"], dir);
    expect(result.code).toBe(0);
    const nodeId = result.stdout.trim();
    expect(nodeId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const path = join(dir, "node.json");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(await readFile(path, "utf8")) as Record<string, string>;
    const key = /^[A-Za-z0-9_-]{43}$/;
    expect(jwk).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      kid: nodeId,
      d: expect.stringMatching(key),
      x: expect.stringMatching(key),
      node_id: nodeId,
    });
    expect(await jwkThumbprint(jwk["x"]!)).toBe(nodeId);
    expect((await readKeyFile(path)).nodeId).toBe(nodeId);
  });

  it("refuses to overwrite a key unless --force is given", { timeout: 30_000 }, async () => {
    const first = await runCli(["keygen", "--key-file", "node.json"], dir);
    const refused = await runCli(["keygen", "--key-file", "node.json"], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("already exists");
    expect((await readKeyFile(join(dir, "node.json"))).nodeId).toBe(first.stdout.trim());
    const forced = await runCli(["keygen", "--key-file", "node.json", "--force"], dir);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).not.toBe(first.stdout.trim());
    expect((await stat(join(dir, "node.json"))).mode & 0o777).toBe(0o600);
  });
});
