// node-agent/Dockerfile against what `npm run pack:agent` produces and installs (docker is not needed to check that
// the recipe copies the right file and runs the right command; the e2e test checks the same against a real pack).
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { agentVersion, BIN_NAME, tarballName } from "./agent-package.js";
import {
  AGENT_DOCKERFILE,
  copySources,
  execForm,
  globMatches,
  parseDockerfile,
  readAgentDockerfile,
  type Instruction,
} from "./dockerfile.js";

const last = (instructions: Instruction[], keyword: string) => instructions.findLast((i) => i.keyword === keyword);

describe("node-agent/Dockerfile", () => {
  it("starts from node:20-slim and copies the tarball the pack script names, and only that", async () => {
    const instructions = await readAgentDockerfile();
    expect(last(instructions, "FROM")?.args).toBe("node:20-slim");
    const sources = copySources(instructions);
    expect(sources).toHaveLength(1);
    const tarball = tarballName(await agentVersion());
    expect(globMatches(sources[0]!, tarball), `${sources[0]} vs ${tarball}`).toBe(true);
    expect(globMatches(sources[0]!, "meshgate-worker-0.1.0.tgz")).toBe(false);
  });

  it("installs it globally with no registry, runs as a non-root user with the key on /data, entrypoint the bin", async () => {
    const instructions = await readAgentDockerfile();
    const runs = instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(runs.some((r) => /npm install -g --offline\b/.test(r))).toBe(true);
    const user = last(instructions, "USER")?.args;
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user);
    expect(last(instructions, "VOLUME")?.args).toBe("/data");
    expect(last(instructions, "WORKDIR")?.args).toBe("/data");
    expect(execForm(last(instructions, "ENTRYPOINT")?.args ?? "")).toEqual([BIN_NAME]);
    expect(execForm(last(instructions, "CMD")?.args ?? "")).toEqual(["start", "--help"]);
  });

  it("sends the builder the tarball alone (Dockerfile.dockerignore)", async () => {
    const lines = (await readFile(`${AGENT_DOCKERFILE}.dockerignore`, "utf8"))
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    const tarball = tarballName(await agentVersion());
    expect(lines.slice(1).some((l) => l.startsWith("!") && globMatches(l.slice(1), tarball))).toBe(true);
  });
});

describe("parseDockerfile", () => {
  it("joins continuation lines and drops comments", () => {
    const text = '# c\nFROM x\n\nRUN a; \\\n    b\nENTRYPOINT ["y"]\n';
    expect(parseDockerfile(text)).toEqual([
      { keyword: "FROM", args: "x" },
      { keyword: "RUN", args: "a;  b" },
      { keyword: "ENTRYPOINT", args: '["y"]' },
    ]);
  });
});
