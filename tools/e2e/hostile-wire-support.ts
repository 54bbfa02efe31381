// Raw HTTP/1.1 over node:net for the hostile-wire test: sends bytes fetch() would never produce, reads whatever comes
// back (a response, a close, a reset, or nothing), and judges it.
import { connect } from "node:net";
import { openAIErrorProblem } from "@meshgate/schemas/testing";

export type WireOutcome =
  | { kind: "response"; status: number; headers: Map<string, string>; body: string; head: string }
  | { kind: "closed" }
  | { kind: "reset"; code: string }
  | { kind: "timeout"; received: string };

export interface ExchangeOptions {
  /** Half-close our side after sending (the server then sees EOF, e.g. mid-body). Default true. */
  halfClose?: boolean;
  /** Give up waiting for an answer after this long: a server that neither answers nor closes is hanging. */
  timeoutMs: number;
}

interface Parsed {
  status: number;
  headers: Map<string, string>;
  body: string;
  head: string;
}

/** Parses the first final (non-1xx) response in `buf`; null while incomplete. `eof`: the server closed. */
export function parseResponse(buf: Buffer, eof: boolean): Parsed | null {
  let at = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", at);
    if (end === -1) return null;
    const head = buf.subarray(at, end).toString("latin1");
    const [statusLine = "", ...lines] = head.split("\r\n");
    const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    const rest = buf.subarray(bodyStart);
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      const body = dechunk(rest);
      return body === null
        ? eof
          ? { status, headers, body: rest.toString("utf8"), head }
          : null
        : { status, headers, body, head };
    }
    const length = headers.get("content-length");
    if (length !== undefined) {
      const n = Number(length);
      if (rest.length < n) return eof ? { status, headers, body: rest.toString("utf8"), head } : null;
      return { status, headers, body: rest.subarray(0, n).toString("utf8"), head };
    }
    return eof ? { status, headers, body: rest.toString("utf8"), head } : null;
  }
}

function dechunk(buf: Buffer): string | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", at);
    if (lineEnd === -1) return null;
    const size = parseInt(buf.subarray(at, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) return Buffer.concat(parts).toString("utf8");
    if (buf.length < lineEnd + 2 + size + 2) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Writes `parts` to a fresh connection (respecting backpressure, stopping if the server hangs up), optionally
 * half-closes, and resolves with the first complete response, or how the connection ended.
 */
export function exchange(
  port: number,
  parts: readonly (string | Buffer)[],
  opts: ExchangeOptions,
): Promise<WireOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (outcome: WireOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const received = () => Buffer.concat(chunks);
    const timer = setTimeout(
      () => finish({ kind: "timeout", received: received().toString("latin1").slice(0, 300) }),
      opts.timeoutMs,
    );
    const settleOnEnd = (fallback: WireOutcome): void => {
      const parsed = parseResponse(received(), true);
      finish(
        parsed
          ? { kind: "response", ...parsed }
          : chunks.length === 0
            ? fallback
            : {
                kind: "response",
                status: NaN,
                headers: new Map(),
                body: "",
                head: received().toString("latin1").slice(0, 300),
              },
      );
    };
    socket.on("data", (data: Buffer) => {
      chunks.push(data);
      const parsed = parseResponse(received(), false);
      if (parsed) finish({ kind: "response", ...parsed });
    });
    socket.on("end", () => settleOnEnd({ kind: "closed" }));
    socket.on("close", () => settleOnEnd({ kind: "closed" }));
    // A reset while we are still writing is normal after an early answer (e.g. 413): what was read decides.
    socket.on("error", (err: NodeJS.ErrnoException) => settleOnEnd({ kind: "reset", code: err.code ?? err.message }));
    socket.on("connect", async () => {
      for (const part of parts) {
        if (settled || socket.destroyed) return;
        if (!socket.write(part))
          await new Promise<void>((r) => {
            socket.once("drain", r);
            socket.once("close", r);
          });
      }
      if (opts.halfClose ?? true) socket.end();
    });
  });
}

export interface Expectation {
  /** Statuses the application must answer with (in OpenAI's shape). */
  statuses?: readonly number[];
  /**
   * Protocol-level garbage: the HTTP parser may reject it before any application code runs, with a bare non-JSON 4xx
   * (Node answers `400 Bad Request` with no body) or by closing/resetting the connection.
   */
  protocol: boolean;
}

/** Why `outcome` is unacceptable, or null. A status >= 500 and a hang are always unacceptable. */
export function problemWith(outcome: WireOutcome, expect: Expectation): string | null {
  if (outcome.kind === "timeout") return `no answer and no close (hang); received: ${JSON.stringify(outcome.received)}`;
  if (outcome.kind !== "response") return expect.protocol ? null : `connection ${outcome.kind} without an answer`;
  const { status, body, headers, head } = outcome;
  const shown = `${head.split("\r\n")[0]} ${JSON.stringify(body.slice(0, 300))}`;
  if (!(status >= 400 && status < 500)) return `expected a 4xx, got: ${shown}`;
  const json = (headers.get("content-type") ?? "").includes("application/json");
  if (!json) return expect.protocol ? null : `a 4xx that is not JSON: ${shown}`;
  const shapeProblem = openAIErrorProblem(body);
  if (shapeProblem) return `${shapeProblem}: ${shown}`;
  if (expect.statuses && !expect.statuses.includes(status))
    return `expected ${expect.statuses.join("/")}, got: ${shown}`;
  return null;
}

/** Describes an outcome for tallies: the status (with "json" or "bare"), or how the connection ended. */
export function outcomeLabel(outcome: WireOutcome): string {
  if (outcome.kind !== "response") return outcome.kind;
  return `${outcome.status} ${(outcome.headers.get("content-type") ?? "").includes("application/json") ? "json" : "bare"}`;
}
