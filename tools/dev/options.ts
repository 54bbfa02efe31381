// `npm run dev -- [options] [-- wrangler dev options]`: where the wrangler dev gateway listens and what starts with it.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { MESHGATE_DIR } from "../gateway/paths.js";

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

export interface DevOptions {
  host: string;
  port: number;
  demo: boolean;
  stateDir: string;
  /** Passed on to `wrangler dev`. */
  wranglerArgs: string[];
}

export function parseDevOptions(argv: string[]): DevOptions | "help" {
  const split = argv.indexOf("--");
  const ours = split < 0 ? argv : argv.slice(0, split);
  const { values } = parseArgs({
    args: ours,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "no-demo": { type: "boolean" },
      "state-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const port = Number(values.port ?? "8787");
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--port must be an integer from 1 to 65535, got ${values.port}`);
  const wranglerArgs = split < 0 ? [] : argv.slice(split + 1);
  const stateDir = values["state-dir"] === undefined ? DEV_STATE_DIR : resolve(values["state-dir"]);
  return { host: values.host ?? "127.0.0.1", port, demo: !values["no-demo"], stateDir, wranglerArgs };
}
