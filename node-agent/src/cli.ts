// Entry point: picks the command from argv and turns failures into a message and an exit code.
import { keygenCommand } from "./commands/keygen.js";
import { MAIN_HELP } from "./commands/help.js";
import { rotateKeyCommand } from "./commands/rotate-key.js";
import { startCommand } from "./commands/start.js";
import { verifySettlementCommand } from "./commands/verify-settlement.js";
import { asUsageError, UsageError } from "./commands/usage-error.js";

async function main(argv: string[]): Promise<number | null> {
  const [command, ...rest] = argv;
  switch (command) {
    case "keygen":
      return keygenCommand(rest);
    case "rotate-key":
      return rotateKeyCommand(rest);
    case "verify-settlement":
      return verifySettlementCommand(rest);
    case "start":
      // Keeps running: the shutdown module exits the process, or this fails once the agent halts on its own.
      await startCommand(rest);
      return null;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(MAIN_HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exitCode = code;
  },
  (raw: unknown) => {
    const err = asUsageError(raw);
    if (err instanceof UsageError) {
      process.stderr.write(`node-agent: ${err.message}\nRun \`node-agent --help\` for usage.\n`);
      process.exit(2);
    }
    // A startup step was waiting when SIGINT/SIGTERM arrived: the shutdown module is already exiting.
    if (err instanceof Error && err.name === "AbortError") return;
    process.stderr.write(`node-agent: error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
