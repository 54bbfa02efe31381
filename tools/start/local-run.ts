// What npm start and npm run dev do before starting anything: the port checked, shutdown tied to the parent, the
// state directory made, and the local secrets read (or generated once).
import { mkdirSync } from "node:fs";
import { type DevVars, ensureDevVars } from "../gateway/dev-vars.js";
import { DEV_VARS } from "../gateway/paths.js";
import { ensurePortFree } from "../gateway/port.js";
import { onShutdown, shutdownWithParent } from "../processes/index.js";
import type { StartOptions } from "./options.js";

export async function prepareLocalRun(options: StartOptions, say: (line: string) => void): Promise<DevVars> {
  // Before anything starts, so a taken port is the one line printed.
  await ensurePortFree(options.host, options.port);
  shutdownWithParent();
  // Cleanups run newest first: this one runs last, after every process has stopped.
  onShutdown(() => say("stopped"));
  mkdirSync(options.stateDir, { recursive: true });
  const { vars, created } = ensureDevVars(DEV_VARS);
  if (created)
    say(`generated ${DEV_VARS} with a random ADMIN_TOKEN and GATEWAY_SIGNING_KEY (git-ignored; keep it private)`);
  return vars;
}
