// `wrangler dev` as a child process: the Worker with live reload, its state in a directory of ours, Miniflare's
// scratch files out of /tmp, and a log without the lines it would print every few seconds for nothing.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LOCAL_IDENTITY_LIMITS } from "../gateway/gateway.js";
import { repeatEvery } from "../gateway/local-cron.js";
import { REPO_ROOT } from "../gateway/paths.js";
import { type LineSink, type ManagedProcess, spawnProcess } from "../processes/index.js";

const WRANGLER_BIN = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

/**
 * Lines dropped from wrangler's log: a successful heartbeat (each node sends one every 2 s), wrangler's warning that
 * Cron Triggers do not fire locally (this tool fires them), and blank lines, which say nothing behind a prefix.
 */
const ROUTINE = [
  /^\s*$/,
  /^\[wrangler:info\] POST \/v1\/nodes\/heartbeat 2\d\d /,
  /Scheduled Workers are not automatically triggered during local development/,
  /To manually trigger a scheduled event, run:/,
  /curl "http:\/\/[^"]+\/cdn-cgi\/handler\/scheduled"/,
  /developers\.cloudflare\.com\/workers\/configuration\/cron-triggers\/#test-cron-triggers-locally/,
  /^\[wrangler:info\] GET \/__scheduled\S* 200 /,
];
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC.
const ANSI = /\x1b\[[0-9;]*m/g;

export function withoutRoutineLines(sink: LineSink): LineSink {
  return (line, stream) => {
    const plain = line.replace(ANSI, "");
    if (!ROUTINE.some((pattern) => pattern.test(plain))) sink(line, stream);
  };
}

export interface WranglerDevOptions {
  host: string;
  port: number;
  /** `--persist-to`: Durable Object state. */
  stateDir: string;
  /** TMPDIR for wrangler and its Miniflare. */
  scratchDir: string;
  extraArgs: string[];
  sink: LineSink;
}

export interface WranglerDev {
  process: ManagedProcess;
  /** Where the gateway answers, as wrangler reports it. */
  url: string;
}

export async function startWranglerDev(o: WranglerDevOptions): Promise<WranglerDev> {
  // As npm start: nodes on this machine may register (private URLs), and all from one address (identity limits).
  const vars = { ALLOW_PRIVATE_NODE_URLS: "true", ...LOCAL_IDENTITY_LIMITS };
  // --test-scheduled: crons are fired through /__scheduled (see fireCronsEvery).
  const args = [WRANGLER_BIN, "dev", "--ip", o.host, "--port", String(o.port), "--persist-to", o.stateDir];
  args.push("--test-scheduled");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawnProcess({
    name: "wrangler",
    command: process.execPath,
    args: [...args, ...o.extraArgs],
    cwd: REPO_ROOT,
    // No cf.json download (wrangler would fetch Cloudflare's request.cf data on every start).
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", TMPDIR: o.scratchDir },
    sink: withoutRoutineLines(o.sink),
  });
  const ready = await child.waitForLine(/Ready on (http\S+)/, 120_000).catch(async (err: unknown) => {
    await child.stop();
    throw err;
  });
  return { process: child, url: (ready[1] ?? "").replace(/\/$/, "") };
}

/**
 * Fires the Worker's Cron Triggers through wrangler dev's /__scheduled (`--test-scheduled`) every `intervalMs` (wrangler
 * never fires them itself); returns a function that stops the timer. Not /cdn-cgi/handler/scheduled: with static
 * assets, wrangler 4.86 sends that to its asset router, which answers 500 "exception" and never runs the Worker's.
 */
export function fireCronsEvery(
  url: string,
  crons: string[],
  intervalMs: number,
  say: (line: string) => void,
): () => void {
  const fire = async (): Promise<void> => {
    for (const cron of crons) {
      const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`);
      const text = await res.text();
      if (!res.ok) throw new Error(`the scheduled handler for "${cron}" answered ${res.status}: ${text.slice(0, 200)}`);
    }
  };
  return repeatEvery(intervalMs, fire, (err) =>
    say(`scheduled run failed: ${err instanceof Error ? err.message : String(err)}`),
  );
}
