// The node agent as an operator gets it: built and packed into a tarball, installed with `npm install -g` (offline:
// it has no dependencies) outside the repository, then run: help, keygen, and a node that serves a chat completion
// through a real local gateway.
import { mkdtemp, readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join, relative } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimBackend } from "@meshgate/sim-backend";
import { runProcess } from "../../node-agent/test/run-cli.js";
import { quietSink, recentOutput } from "../e2e/support/quiet.js";
import { E2E, SETUP_TIMEOUT_MS } from "../e2e/support/timeouts.js";
import { createApiKey } from "../gateway/admin.js";
import { generateDevVars } from "../gateway/dev-vars.js";
import { startGateway } from "../gateway/gateway.js";
import { waitForNode } from "../gateway/nodes.js";
import { REPO_ROOT } from "../gateway/paths.js";
import { startNodeAgent } from "../processes/index.js";
import {
  BIN_NAME,
  BUNDLE_FILE,
  buildAgentPackage,
  installedPackageDir,
  packAgentPackage,
  PACKAGE_NAME,
  tarballName,
  type AgentPackage,
  type PackedAgent,
} from "./agent-package.js";
import { copySources, execForm, globMatches, readAgentDockerfile } from "./dockerfile.js";

/**
 * A directory outside the repository. Vitest points TMPDIR into it (.meshgate/tmp), and a package installed under the
 * repository would resolve imports from its node_modules: a dependency missing from the bundle would go unnoticed.
 */
async function scratchOutsideRepo(prefix: string): Promise<string> {
  const outside = [tmpdir(), "/tmp"].find((dir) => {
    const rel = relative(REPO_ROOT, dir);
    return rel.startsWith("..") || isAbsolute(rel);
  });
  if (outside === undefined) throw new Error(`no temporary directory outside ${REPO_ROOT}`);
  return mkdtemp(join(outside, prefix));
}

let scratch: string;
let pkg: AgentPackage;
let packed: PackedAgent;
let prefix: string;
/** The installed `node-agent` command, as a shell finds it on PATH. */
let bin: string;
/** PATH with the install's bin first, and this Node for the bin's `#!/usr/bin/env node`. */
let operatorEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  scratch = await scratchOutsideRepo("meshgate-agent-package-");
  pkg = await buildAgentPackage({ outDir: join(scratch, "package") });
  packed = await packAgentPackage(pkg, join(scratch, "dist"));
  prefix = join(scratch, "prefix");
  // No registry is reachable at this address and the cache is empty: the install must need neither.
  const install = await runProcess(
    "npm",
    ["install", "-g", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, packed.tarball],
    scratch,
    {
      ...process.env,
      npm_config_registry: "http://127.0.0.1:9/",
      npm_config_cache: join(scratch, "npm-cache"),
    },
  );
  if (install.code !== 0) throw new Error(`npm install -g failed (${install.code}): ${install.stderr}`);
  bin = join(prefix, "bin", BIN_NAME);
  operatorEnv = {
    ...process.env,
    PATH: [join(prefix, "bin"), dirname(process.execPath), process.env["PATH"] ?? ""].join(delimiter),
  };
}, SETUP_TIMEOUT_MS);

afterAll(() => (scratch ? rm(scratch, { recursive: true, force: true }) : undefined));

describe("the packed node agent", E2E, () => {
  it("is one tarball named after the scoped package, holding the bundle, package.json and README only", async () => {
    expect(packed.tarball).toBe(join(scratch, "dist", tarballName(pkg.version)));
    expect(packed.files).toEqual(["README.md", BUNDLE_FILE, "package.json"]);
    // Everything is bundled, and nothing big by mistake: today 163 KiB packed, 912 KiB unpacked.
    expect(packed.size).toBeLessThan(1024 * 1024);
    expect(pkg.bundled.map((p) => p.replace(/@[^@]*$/, ""))).toEqual(
      expect.arrayContaining(["@noble/ed25519", "@noble/hashes", "zod"]),
    );
    // One copy of each package, although npm nests zod under both schemas/ and node-agent/.
    expect(new Set(pkg.bundled.map((p) => p.replace(/@[^@]*$/, ""))).size).toBe(pkg.bundled.length);
    const manifest = JSON.parse(await readFile(join(pkg.dir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: PACKAGE_NAME,
      version: pkg.version,
      type: "module",
      bin: { [BIN_NAME]: BUNDLE_FILE },
      engines: { node: ">=20" },
    });
    expect(manifest["dependencies"]).toBeUndefined();
  });

  it("installs without a registry: the bundle, package.json and README, no src and no node_modules", async () => {
    const installed = installedPackageDir(prefix);
    expect((await readdir(installed)).sort()).toEqual(["README.md", BUNDLE_FILE, "package.json"]);
    expect(await realpath(bin)).toBe(await realpath(join(installed, BUNDLE_FILE)));
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
    const readme = await readFile(join(installed, "README.md"), "utf8");
    expect(readme).toContain(`npm install -g ./${tarballName(pkg.version)}`);
    expect(readme).toContain("## Bundled software");
  });

  it("`node-agent --help` prints the usage and its commands", async () => {
    const help = await runProcess(bin, ["--help"], scratch, operatorEnv);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: node-agent <command> \[options\]/);
    for (const command of ["keygen", "start", "rotate-key", "verify-settlement"])
      expect(help.stdout).toContain(command);
    const start = await runProcess(bin, ["start", "--help"], scratch, operatorEnv);
    expect(start.code).toBe(0);
    expect(start.stdout).toContain("Usage: node-agent start --gateway URL --upstream URL");
  });

  it("`node-agent keygen --key-file` writes an owner-only key and prints the node id", async () => {
    const keyFile = join(scratch, "k.json");
    const keygen = await runProcess(bin, ["keygen", "--key-file", keyFile], scratch, operatorEnv);
    expect(keygen.code).toBe(0);
    const nodeId = keygen.stdout.trim();
    expect(nodeId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keygen.stderr).toBe(`wrote ${keyFile} (mode 0600); keep it private. Node id:\n`);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(keyFile, "utf8"))).toMatchObject({ kty: "OKP", crv: "Ed25519", node_id: nodeId });
  });

  it("refuses an unknown command with a usage error", async () => {
    const wrong = await runProcess(bin, ["strat"], scratch, operatorEnv);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('node-agent: unknown command "strat"\nRun `node-agent --help` for usage.\n');
  });

  it("matches node-agent/Dockerfile: its COPY takes this tarball, its ENTRYPOINT is the installed bin", async () => {
    const instructions = await readAgentDockerfile();
    const [source] = copySources(instructions);
    expect(globMatches(source ?? "", tarballName(pkg.version))).toBe(true);
    const entrypoint = execForm(instructions.findLast((i) => i.keyword === "ENTRYPOINT")?.args ?? "");
    expect(entrypoint).toEqual([BIN_NAME]);
    expect(await realpath(join(prefix, "bin", entrypoint?.[0] ?? ""))).toBe(
      await realpath(join(installedPackageDir(prefix), BUNDLE_FILE)),
    );
  });

  it("serves a chat completion end to end: gateway → installed agent → simulated backend", async () => {
    const vars = generateDevVars();
    const stops: (() => Promise<unknown>)[] = [];
    try {
      const gateway = await startGateway({ vars, sink: quietSink("gateway") });
      stops.push(() => gateway.stop());
      const backend = await startSimBackend({ models: ["sim-small"], log: quietSink("sim-backend") });
      stops.push(() => backend.close());
      const agent = await startNodeAgent({
        name: "packaged-agent",
        bin,
        gatewayUrl: gateway.url,
        upstreamUrl: backend.url,
        keyFile: join(scratch, "agent.key"),
        sink: quietSink("packaged-agent"),
      });
      stops.push(() => agent.process.stop());
      await waitForNode(gateway.url, agent.nodeId);
      const { key } = await createApiKey(gateway.url, vars.ADMIN_TOKEN, "e2e-agent-package");
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
      const { data, response } = await client.chat.completions
        .create({ model: "sim-small", messages: [{ role: "user", content: "Hello from a packaged node" }] })
        .withResponse();
      expect(response.headers.get("x-meshgate-node")).toBe(agent.nodeId);
      expect(data.choices[0]?.message.content).toBeTruthy();
      expect(data.usage?.completion_tokens).toBeGreaterThan(0);
      expect(backend.stats().requests).toBe(1);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nRecent output:\n${recentOutput()}`, {
        cause: err,
      });
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    }
  });
});

describe("bundling ws", E2E, () => {
  // The agent's gateway session uses ws, which is CommonJS and loads optional native add-ons: a client and server
  // bundled the same way must talk with neither add-on installed, run from outside the repository.
  it("runs a bundled ws client and server without bufferutil or utf-8-validate", async () => {
    const entry = join(REPO_ROOT, "tools", "agent-package", "ws-echo.ts");
    const built = await buildAgentPackage({ outDir: join(scratch, "ws-package"), entry });
    expect(built.bundled.map((p) => p.replace(/@[^@]*$/, ""))).toEqual(["ws"]);
    const echo = await runProcess(process.execPath, [join(built.dir, BUNDLE_FILE)], scratch);
    expect(echo.stderr).toBe("");
    expect(echo.stdout).toBe("echo hello\n");
  });
});
