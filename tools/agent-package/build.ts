// `npm run build:agent`: bundles the node agent into node-agent/dist/package/ (see agent-package.ts).
import { relative } from "node:path";
import { REPO_ROOT } from "../gateway/paths.js";
import { buildAgentPackage } from "./agent-package.js";

const pkg = await buildAgentPackage();
process.stdout.write(
  `built ${relative(REPO_ROOT, pkg.dir)}/ (${pkg.files.join(", ")}): bundle ${pkg.bundleBytes} bytes, ` +
    `bundling ${pkg.bundled.join(", ")}\n`,
);
