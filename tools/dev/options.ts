// `npm run dev -- [options] [-- wrangler dev options]`: where the wrangler dev gateway listens and what starts with it.
import { resolve } from "node:path";
import { MESHGATE_DIR } from "../gateway/paths.js";
import { parseServeOptions, type StartOptions } from "../start/options.js";

export const DEV_STATE_DIR = resolve(MESHGATE_DIR, "dev-state");

export const DEV_HELP = `Usage: npm run dev -- [options] [-- wrangler dev options]

Serves the Meshgate gateway under \`wrangler dev\` (live reload; slower than npm start, since it traces every
subrequest for DevTools), with its own state in .meshgate/dev-state: npm start's keys do not work here, nor the other
way round. Like npm start, it also starts a SIMULATED inference backend and one node agent, makes an API key, prints
how to use them, and runs the health probes (the Cron Trigger) every 10 s.

Options:
  --port N      gateway port (default 8787)
  --host HOST   gateway interface (default 127.0.0.1)
  --no-demo     serve the gateway alone: no simulated backend, no node agent
  --state-dir DIR
                keep the gateway's state, the local API key and the demo node's key here (default
                .meshgate/dev-state)
  -h, --help    show this help

Anything after a second \`--\` goes to wrangler dev as it is, e.g. npm run dev -- -- --inspector-port 9230
`;

export interface DevOptions extends StartOptions {
  /** Passed on to `wrangler dev`. */
  wranglerArgs: string[];
}

/** npm start's options (a real port only), then, after `--`, wrangler dev's own. */
export function parseDevOptions(argv: string[]): DevOptions | "help" {
  const split = argv.indexOf("--");
  const options = parseServeOptions(split < 0 ? argv : argv.slice(0, split), DEV_STATE_DIR, 1);
  if (options === "help") return "help";
  return { ...options, wranglerArgs: split < 0 ? [] : argv.slice(split + 1) };
}
