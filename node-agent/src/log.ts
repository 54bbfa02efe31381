// One line per event: `<ISO time> node-agent <event> key=value ...`. Never given prompt or completion text.
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type Logger = (event: string, fields?: LogFields) => void;

const PLAIN = /^[\w.:/@+,-]*$/;

function formatValue(value: string | number | boolean | null): string {
  const text = String(value);
  return PLAIN.test(text) && text !== "" ? text : JSON.stringify(text);
}

export function formatLine(event: string, fields: LogFields = {}, now = new Date()): string {
  let line = `${now.toISOString()} node-agent ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
  }
  return line;
}

export function stderrLogger(): Logger {
  return (event, fields) => {
    process.stderr.write(`${formatLine(event, fields)}\n`);
  };
}

export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch() hides the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const cause = err.cause instanceof Error ? err.cause : null;
  const code = cause && "code" in cause && typeof cause.code === "string" ? cause.code : null;
  return code ? `${err.message} (${code})` : cause ? `${err.message}: ${cause.message}` : err.message;
}
