// `npm run dev` runs `wrangler dev` (live reload, but it traces every subrequest for DevTools, so it is slower than
// `npm start`). This step only makes sure the secrets it reads from .dev.vars exist.
import { ensureDevVars } from "./gateway/dev-vars.js";
import { DEV_VARS } from "./gateway/paths.js";

const { created } = ensureDevVars(DEV_VARS);
if (created)
  process.stdout.write(`generated ${DEV_VARS} with a random ADMIN_TOKEN and GATEWAY_SIGNING_KEY (git-ignored)\n`);
