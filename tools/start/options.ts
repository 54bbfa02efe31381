// `npm start -- [options]`: what the local stack serves and where.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { MESHGATE_DIR } from "../gateway/paths.js";

export const DEFAULT_STATE_DIR = resolve(MESHGATE_DIR, "state");

export const START_HELP = `Usage: npm start -- [options]

Serves the Meshgate gateway locally under workerd, with Durable Object state kept in .meshgate/state. By default
also starts a SIMULATED inference backend and one node agent in front of it, so the gateway can answer at once.

Options:
  --port N      gateway port (default 8787)
  --host HOST   gateway interface (default 127.0.0.1)
  --no-demo     serve the gateway alone: no simulated backend, no node agent
  --isolates N  serve the gateway from N isolates (default 1): N copies of the Worker in one workerd, sharing the
                Durable Objects, taking requests in turn, as production's isolates in many colos do
  --state-dir DIR
                keep the gateway's state, the local API key and the demo node's key here (default .meshgate/state),
                e.g. to run a second, separate gateway beside the first
  -h, --help    show this help

SIGINT, SIGTERM or SIGHUP (to npm or to this process) stops everything it started; so does npm itself going away.
`;

export interface StartOptions {
  host: string;
  port: number;
  demo: boolean;
  stateDir: string;
}

/** npm start's own: how many isolates serve the gateway (npm run dev is wrangler's one). */
export interface LocalStartOptions extends StartOptions {
  isolates: number;
}

const MAX_ISOLATES = 64;

export function parseStartOptions(argv: string[]): LocalStartOptions | "help" {
  const rest: string[] = [];
  let isolates = "1";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--isolates") isolates = argv[++i] ?? "";
    else if (arg.startsWith("--isolates=")) isolates = arg.slice("--isolates=".length);
    else rest.push(arg);
  }
  const options = parseServeOptions(rest, DEFAULT_STATE_DIR, 0);
  if (options === "help") return "help";
  const count = /^\d+$/.test(isolates) ? Number(isolates) : Number.NaN;
  if (!(count >= 1 && count <= MAX_ISOLATES))
    throw new Error(`--isolates must be an integer from 1 to ${MAX_ISOLATES}, got ${isolates || "nothing"}`);
  return { ...options, isolates: count };
}

/**
 * The options npm start and npm run dev share. `minPort`: 0 lets the system pick one (npm start); wrangler dev needs
 * a real port.
 */
export function parseServeOptions(argv: string[], defaultStateDir: string, minPort: 0 | 1): StartOptions | "help" {
  const { values } = parseArgs({
    args: argv,
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
  if (!Number.isInteger(port) || port < minPort || port > 65535)
    throw new Error(`--port must be an integer from ${minPort} to 65535, got ${values.port}`);
  const stateDir = values["state-dir"] === undefined ? defaultStateDir : resolve(values["state-dir"]);
  return { host: values.host ?? "127.0.0.1", port, demo: !values["no-demo"], stateDir };
}
