// `npm run pack:agent`: builds the node agent package and packs it into dist/meshgate-node-agent-<version>.tgz, the
// file an operator installs with `npm install -g` or copies into the Docker build (node-agent/Dockerfile).
import { relative } from "node:path";
import { REPO_ROOT } from "../gateway/paths.js";
import { buildAndPackAgent } from "./agent-package.js";

const packed = await buildAndPackAgent();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
process.stdout.write(
  `${relative(REPO_ROOT, packed.tarball)}: ${kib(packed.size)} (${kib(packed.unpackedSize)} unpacked; ` +
    `${packed.files.join(", ")})\n` +
    `install: npm install -g ./${relative(process.cwd(), packed.tarball)}\n`,
);
