// A mistake on the command line: reported with a pointer to --help and exit code 2.
export class UsageError extends Error {}

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes; those are usage errors too. */
export function asUsageError(err: unknown): unknown {
  if (
    err instanceof TypeError &&
    "code" in err &&
    typeof err.code === "string" &&
    err.code.startsWith("ERR_PARSE_ARGS")
  ) {
    return new UsageError(err.message);
  }
  return err;
}
