import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jwkThumbprint, KeyRotationRequestSchema } from "@meshgate/schemas";
import { runCli } from "../../test/run-cli.js";
import { readKeyFile, writeKeyFile } from "../identity/key-file.js";
import { generateIdentity } from "../identity/node-identity.js";

/** A gateway stand-in whose rotate-key answers are scripted: a status, or the real ack. */
async function gateway(answers: (number | "ack")[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void (async () => {
        const answer = answers.shift() ?? 500;
        if (answer !== "ack")
          return void res
            .writeHead(answer, { "content-type": "application/json" })
            .end(JSON.stringify({ error: { message: "no", type: "x", param: null, code: "scripted" } }));
        const rotation = KeyRotationRequestSchema.parse(JSON.parse(body));
        const previous = /keyid="([^"]+)"/.exec(String(req.headers["signature-input"]))?.[1];
        const ack = {
          object: "node.key_rotation",
          node_id: rotation.node_id,
          keyid: await jwkThumbprint(rotation.new_key.x),
          previous_keyid: previous,
        };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(ack));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let dir: string;
let server: Server | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "node-agent-rotate-"));
});
afterEach(async () => {
  server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("node-agent rotate-key", () => {
  it("keeps the new key when the outcome is unknown, resumes with it, and drops it after a refusal", {
    timeout: 60_000,
  }, async () => {
    const file = join(dir, "node.json");
    const original = await generateIdentity();
    await writeKeyFile(file, original, { force: false });
    const gw = await gateway([503, "ack"]);
    server = gw.server;

    const unknown = await runCli(["rotate-key", "--gateway", gw.url, "--key-file", file], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("run the same command again");
    const pending = await readKeyFile(`${file}.next`);
    expect(pending.nodeId).toBe(original.nodeId);

    const resumed = await runCli(["rotate-key", "--gateway", gw.url, "--key-file", file], dir);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.trim()).toBe(pending.signer.keyId);
    const now = await readKeyFile(file);
    expect(now).toMatchObject({ nodeId: original.nodeId, publicKey: pending.publicKey });
    expect(existsSync(`${file}.next`)).toBe(false);

    server.close();
    const refusing = await gateway([401]);
    server = refusing.server;
    const refused = await runCli(["rotate-key", "--gateway", refusing.url, "--key-file", file], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused the rotation");
    expect(existsSync(`${file}.next`)).toBe(false);
    expect((await readKeyFile(file)).publicKey).toBe(pending.publicKey);
  });
});
