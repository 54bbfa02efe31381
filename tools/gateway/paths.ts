// Where things live in the repository, independent of the directory a tool is started from.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const WRANGLER_TOML = join(REPO_ROOT, "wrangler.toml");
export const DEV_VARS = join(REPO_ROOT, ".dev.vars");
/** Git-ignored scratch space for builds and local state. */
export const MESHGATE_DIR = join(REPO_ROOT, ".meshgate");
