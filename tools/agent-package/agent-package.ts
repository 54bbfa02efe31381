// The node agent as an installable package: node-agent/src bundled by esbuild into one ES module for Node 20 with
// everything it imports (@meshgate/schemas, zod, @noble/*, ws), a generated package.json with no dependencies, and an
// operators' README; `npm pack` of that directory is the tarball an operator installs with `npm install -g`.
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { build, type Metafile, type Plugin } from "esbuild";
import { REPO_ROOT } from "../gateway/paths.js";

export const PACKAGE_NAME = "@meshgate/node-agent";
export const BIN_NAME = "node-agent";
export const BUNDLE_FILE = "node-agent.mjs";
export const AGENT_DIR = join(REPO_ROOT, "node-agent");
/** The CLI main that bin/node-agent.js runs through tsx in a clone. */
export const AGENT_ENTRY = join(AGENT_DIR, "src", "cli.ts");
/** Where `npm run build:agent` writes the package directory (git-ignored: every `dist/` is). */
export const PACKAGE_DIR = join(AGENT_DIR, "dist", "package");
/** Where `npm run pack:agent` writes the tarball (git-ignored). */
export const TARBALL_DIR = join(REPO_ROOT, "dist");
/** The operators' README, copied into the package with the bundled software's licenses appended. */
const README_SOURCE = join(REPO_ROOT, "tools", "agent-package", "package-README.md");

/**
 * ws loads these native add-ons with a `require` inside try/catch and falls back to JavaScript without them; left
 * external, the bundle runs whether or not they are installed.
 */
const OPTIONAL_NATIVE = ["bufferutil", "utf-8-validate"];

/**
 * ws is CommonJS: esbuild turns its `require("events")` and the like into a shim that throws in an ES module unless a
 * `require` is in scope, so the bundle makes one (createRequire resolves builtins and, if present, the add-ons).
 */
const BANNER = [
  "#!/usr/bin/env node",
  'import { createRequire as __meshgateCreateRequire } from "node:module";',
  "const require = __meshgateCreateRequire(import.meta.url);",
].join("\n");

const run = promisify(execFile);

export interface AgentPackage {
  dir: string;
  version: string;
  /** Files of the package directory, sorted. */
  files: string[];
  bundleBytes: number;
  /** Third-party packages the bundle holds, `name@version`, sorted. */
  bundled: string[];
}

export interface BuildOptions {
  /** Default PACKAGE_DIR; emptied first. */
  outDir?: string;
  /** Default AGENT_ENTRY (another entry is for testing the bundling itself). */
  entry?: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  license?: string;
}

async function readPackageJson(dir: string): Promise<PackageJson> {
  return JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as PackageJson;
}

export async function agentVersion(): Promise<string> {
  const { version } = await readPackageJson(AGENT_DIR);
  if (version === undefined) throw new Error(`${AGENT_DIR}/package.json has no version`);
  return version;
}

/** What `npm pack` names the tarball of a scoped package: `@scope/name` becomes `scope-name-<version>.tgz`. */
export function tarballName(version: string): string {
  return `${PACKAGE_NAME.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/** The installed package's own directory relative to the root an install used as `--prefix`, on Linux and macOS. */
export function installedPackageDir(prefix: string): string {
  return join(prefix, "lib", "node_modules", ...PACKAGE_NAME.split("/"));
}

/** The root of the package a resolved file belongs to, and its name: the part after the last `node_modules/`. */
function packageRootOf(file: string): { root: string; name: string } | null {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return null;
  const parts = file.slice(at + marker.length).split(sep);
  const nameParts = parts[0]?.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1);
  return { root: file.slice(0, at + marker.length) + nameParts.join(sep), name: nameParts.join("/") };
}

/**
 * npm nests a copy of a package in each workspace that needs it when the root holds another version (zod: one copy
 * under schemas/, one under node-agent/), and esbuild would bundle each copy. Files of a package version already
 * bundled from one place are taken from that place, so each version is bundled once.
 */
function dedupePackages(): Plugin {
  const SKIP = Symbol("dedupe");
  return {
    name: "dedupe-packages",
    setup(pluginBuild) {
      const firstRoot = new Map<string, string>();
      pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === SKIP || isBuiltin(args.path)) return undefined;
        const resolved = await pluginBuild.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (resolved.errors.length > 0 || resolved.external) return resolved;
        const owner = packageRootOf(resolved.path);
        if (!owner) return resolved;
        const { version } = await readPackageJson(owner.root);
        const key = `${owner.name}@${version}`;
        const first = firstRoot.get(key);
        if (first === undefined) {
          firstRoot.set(key, owner.root);
          return resolved;
        }
        return { ...resolved, path: join(first, relative(owner.root, resolved.path)) };
      });
    },
  };
}

/** Imports the bundle leaves to Node: builtins, and the optional add-ons. Anything else would fail on install. */
function checkExternals(metafile: Metafile): void {
  const stray = new Set<string>();
  for (const output of Object.values(metafile.outputs))
    for (const imported of output.imports)
      if (imported.external && !isBuiltin(imported.path) && !OPTIONAL_NATIVE.includes(imported.path))
        stray.add(imported.path);
  if (stray.size > 0) throw new Error(`the bundle imports packages it does not contain: ${[...stray].join(", ")}`);
}

/** Third-party packages in the bundle (anything under a node_modules/; workspace packages resolve to their sources). */
function bundledPackageRoots(metafile: Metafile): Map<string, string> {
  const roots = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    const owner = packageRootOf(join(REPO_ROOT, input));
    if (owner) roots.set(owner.name, owner.root);
  }
  return roots;
}

/** Each bundled package's license text, which its license (MIT for all of today's) asks to travel with copies. */
async function licenseNotices(roots: Map<string, string>): Promise<{ bundled: string[]; text: string }> {
  const bundled: string[] = [];
  let text = "\n## Bundled software\n\n`node-agent.mjs` contains these packages; their licenses follow.\n";
  for (const [name, root] of [...roots].sort(([a], [b]) => a.localeCompare(b))) {
    const pkg = await readPackageJson(root);
    bundled.push(`${name}@${pkg.version ?? "?"}`);
    const licenseFile = (await readdir(root)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const license = licenseFile ? (await readFile(join(root, licenseFile), "utf8")).trim() : null;
    text += `\n### ${name} ${pkg.version ?? ""} (${pkg.license ?? "license not stated"})\n\n`;
    text += license ? `\`\`\`text\n${license}\n\`\`\`\n` : "No license file is shipped with this package.\n";
  }
  return { bundled, text };
}

export async function buildAgentPackage(opts: BuildOptions = {}): Promise<AgentPackage> {
  const dir = opts.outDir ?? PACKAGE_DIR;
  const version = await agentVersion();
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const bundlePath = join(dir, BUNDLE_FILE);
  const result = await build({
    entryPoints: [opts.entry ?? AGENT_ENTRY],
    outfile: bundlePath,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: OPTIONAL_NATIVE,
    plugins: [dedupePackages()],
    banner: { js: BANNER },
    // Not minified: operators can read what holds their node key, and stack traces name real functions.
    metafile: true,
    // Metafile paths are relative to this; bundledPackageRoots reads them back.
    absWorkingDir: REPO_ROOT,
    logLevel: "warning",
  });
  checkExternals(result.metafile);
  const notices = await licenseNotices(bundledPackageRoots(result.metafile));
  const readme = (await readFile(README_SOURCE, "utf8")).replaceAll("{{version}}", version);
  await writeFile(join(dir, "README.md"), readme + notices.text);
  const packageJson = {
    name: PACKAGE_NAME,
    version,
    description: "Meshgate node agent: joins an OpenAI-compatible inference server to a Meshgate gateway.",
    // The repository grants no license; npm's word for that. Bundled packages keep theirs (README, end).
    license: "UNLICENSED",
    // A tarball to install, not yet a registry package: publishing under the @meshgate scope is a separate decision.
    private: true,
    type: "module",
    bin: { [BIN_NAME]: BUNDLE_FILE },
    engines: { node: ">=20" },
    files: [BUNDLE_FILE, "README.md"],
  };
  await writeFile(join(dir, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  return {
    dir,
    version,
    files: (await readdir(dir)).sort(),
    bundleBytes: (await stat(bundlePath)).size,
    bundled: notices.bundled,
  };
}

export interface PackedAgent {
  tarball: string;
  /** The tarball's size in bytes. */
  size: number;
  /** What its files add up to unpacked, in bytes. */
  unpackedSize: number;
  /** Paths inside the tarball (under `package/`), as npm lists them. */
  files: string[];
}

interface NpmPackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/**
 * `npm pack` of a built package directory into `destDir`, after removing older tarballs of this package there, so the
 * directory holds exactly one (the Dockerfile copies `meshgate-node-agent-*.tgz`).
 */
export async function packAgentPackage(pkg: AgentPackage, destDir = TARBALL_DIR): Promise<PackedAgent> {
  await mkdir(destDir, { recursive: true });
  const prefix = tarballName("").replace(/\.tgz$/, "");
  for (const entry of await readdir(destDir))
    if (entry.startsWith(prefix) && entry.endsWith(".tgz")) await rm(join(destDir, entry));
  const { stdout } = await run("npm", ["pack", pkg.dir, "--pack-destination", destDir, "--json", "--silent"], {
    cwd: dirname(pkg.dir),
  });
  const [report] = JSON.parse(stdout) as NpmPackReport[];
  if (!report) throw new Error(`npm pack reported nothing: ${stdout}`);
  const tarball = join(destDir, report.filename);
  if (report.filename !== tarballName(pkg.version))
    throw new Error(`npm pack wrote ${report.filename}, expected ${tarballName(pkg.version)}`);
  return {
    tarball,
    size: report.size,
    unpackedSize: report.unpackedSize,
    files: report.files.map((f) => f.path).sort(),
  };
}

export async function buildAndPackAgent(opts: BuildOptions & { destDir?: string } = {}): Promise<PackedAgent> {
  return packAgentPackage(await buildAgentPackage(opts), opts.destDir);
}
